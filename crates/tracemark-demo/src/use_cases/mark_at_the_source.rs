//! Use case 1, marking at the source, and its counter-example, unmarked output.

use tracemark::Result;

use super::{UseCase, UseCases};

impl UseCases<'_> {
    /// Use case 1: a provider marks its output in every layer; a reader strips the
    /// credential and edits the text; attribution still names the provider, model and
    /// generation. Its counter-example: the same model's unmarked output, which the
    /// provider states is AI-generated, breaches the marking duty.
    pub(crate) fn mark_at_the_source(&mut self) -> Result<[UseCase; 2]> {
        let marked = self.marked(1, &self.out.join("1-mark-at-the-source.signed.txt"))?;
        let unmarked = self.unmarked(2, 300)?;
        Ok([
            self.attribute(
                "1-mark-at-the-source",
                "Mark at the source: the credential stripped and the text edited",
                "1-mark-at-the-source.txt",
                &edit(&marked),
                None,
            )?,
            self.attribute(
                "1b-unmarked-output",
                "The same model without the watermark: the marking is missing",
                "1b-unmarked-output.txt",
                &unmarked,
                Some(true),
            )?,
        ])
    }
}

/// What a reader does to a text before reposting it: drop a sentence, add one of their
/// own. The watermark and the log's sketch survive it.
fn edit(text: &str) -> String {
    let sentences: Vec<&str> = text.split_inclusive(". ").collect();
    let kept: String = sentences
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 1 || sentences.len() < 4)
        .map(|(_, s)| *s)
        .collect();
    format!("A story for tonight, shared from my phone. {kept}")
}
