//! AI crawler product tokens and the uses their operators say they control.
//!
//! A robots.txt `Disallow` for one of these tokens is read as an opt-out of the uses
//! listed here, for that operator only (`legal.md` §3.2). The purposes are the
//! operators' own descriptions as collected by the ai.robots.txt project: they are
//! secondary sources, kept as data so that they can be corrected in one place.

use tracemark_core::rights::AiUse;

/// One AI user-agent token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AiAgent {
    /// The robots.txt product token, as the operator spells it.
    pub token: &'static str,
    pub operator: &'static str,
    /// The uses a block of this token withholds.
    pub uses: &'static [AiUse],
}

const TRAIN: &[AiUse] = &[AiUse::AiTrain, AiUse::GenaiTrain];
const INPUT: &[AiUse] = &[AiUse::AiInput];
const SEARCH: &[AiUse] = &[AiUse::Search, AiUse::AiIndex];
const TRAIN_AND_INPUT: &[AiUse] = &[AiUse::AiTrain, AiUse::GenaiTrain, AiUse::AiInput];
const TRAIN_AND_INDEX: &[AiUse] = &[AiUse::AiTrain, AiUse::GenaiTrain, AiUse::AiIndex];
const MINING: &[AiUse] = &[AiUse::Tdm];

const fn agent(token: &'static str, operator: &'static str, uses: &'static [AiUse]) -> AiAgent {
    AiAgent {
        token,
        operator,
        uses,
    }
}

/// The tokens `legal.md` §3.2 lists.
pub const AI_AGENTS: &[AiAgent] = &[
    agent("GPTBot", "OpenAI", TRAIN),
    agent("OAI-SearchBot", "OpenAI", SEARCH),
    agent("ChatGPT-User", "OpenAI", INPUT),
    // A control token, not a crawler: Gemini/Vertex training and grounding, not Search.
    agent("Google-Extended", "Google", TRAIN_AND_INPUT),
    agent("GoogleOther", "Google", MINING),
    agent("Google-CloudVertexBot", "Google", INPUT),
    agent("Applebot-Extended", "Apple", TRAIN),
    // Common Crawl's dataset is general-purpose, widely used for training: mining.
    agent("CCBot", "Common Crawl", MINING),
    agent("ClaudeBot", "Anthropic", TRAIN),
    agent("Claude-User", "Anthropic", INPUT),
    agent("Claude-SearchBot", "Anthropic", SEARCH),
    agent("anthropic-ai", "Anthropic", TRAIN),
    agent("Claude-Web", "Anthropic", TRAIN),
    agent("meta-externalagent", "Meta", TRAIN_AND_INDEX),
    agent("meta-externalfetcher", "Meta", INPUT),
    agent("FacebookBot", "Meta", TRAIN),
    agent("PerplexityBot", "Perplexity", SEARCH),
    agent("Perplexity-User", "Perplexity", INPUT),
    agent("Bytespider", "ByteDance", TRAIN),
    agent("Amazonbot", "Amazon", TRAIN_AND_INPUT),
    agent("cohere-ai", "Cohere", INPUT),
    agent("cohere-training-data-crawler", "Cohere", TRAIN),
    agent("Diffbot", "Diffbot", MINING),
    agent("AI2Bot", "Allen Institute for AI", TRAIN),
    agent("Ai2Bot-Dolma", "Allen Institute for AI", TRAIN),
    agent("DeepSeekBot", "DeepSeek", TRAIN),
    agent("img2dataset", "img2dataset", TRAIN),
    agent("LAIONDownloader", "LAION", TRAIN),
    agent("MistralAI-User", "Mistral AI", INPUT),
];

/// The AI agent with this product token (case-insensitive, as RFC 9309 matches).
pub fn ai_agent(token: &str) -> Option<&'static AiAgent> {
    AI_AGENTS
        .iter()
        .find(|a| a.token.eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_case_insensitively_and_are_unique() {
        assert_eq!(ai_agent("gptbot").unwrap().operator, "OpenAI");
        assert_eq!(ai_agent("GOOGLE-EXTENDED").unwrap().uses, TRAIN_AND_INPUT);
        assert!(ai_agent("Googlebot").is_none());
        for (i, a) in AI_AGENTS.iter().enumerate() {
            assert!(
                AI_AGENTS[i + 1..]
                    .iter()
                    .all(|b| !b.token.eq_ignore_ascii_case(a.token))
            );
            assert!(!a.uses.is_empty());
        }
    }
}
