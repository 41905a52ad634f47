//! Use case 3: who owns a mixed document, the author's, the AI's and a quoted source's
//! parts.

use tracemark::Result;

use super::{UseCase, UseCases, paragraphs};
use crate::corpus::{QUOTED_DOCUMENT, read_corpus_text};

/// The third use case's author's own paragraphs (written for the demo; in no corpus).
const AUTHOR_OPENING: &str = "I keep a notebook of the stories my daughter asks for at \
bedtime. Most nights she wants a new one, and some nights I am too tired to invent it, so \
this autumn I began asking an assistant for a first draft and reading it aloud with my own \
changes. What follows is one of those evenings, written up the next morning.\n\n";
const AUTHOR_BRIDGE: &str = "\n\nShe fell asleep before the end, as usual. Over breakfast \
she asked why the bread in the story was yellow, and I found the answer in a cookery column \
I had saved:\n\n";
const AUTHOR_CLOSING: &str = "\n\nWe baked a small loaf that afternoon. It cracked across \
the top and was too salty, and she declared it the best bread in the county.\n";

impl UseCases<'_> {
    /// Use case 3: an author's document with their own paragraphs, an AI draft (marked
    /// by its provider, credential stripped in the copy-paste) and a quoted, licensed
    /// source.
    pub(crate) fn mixed_document(&mut self) -> Result<UseCase> {
        let draft = self.marked(5, &self.out.join("3-mixed-document.draft.signed.txt"))?;
        let quoted = paragraphs(&read_corpus_text(self.corpus, QUOTED_DOCUMENT)?, 1, 1);
        let document = format!(
            "{AUTHOR_OPENING}{draft}{AUTHOR_BRIDGE}{quoted}\n(Tomás Ferreira, \"Broa and the \
             yellow flour\", CC BY 4.0){AUTHOR_CLOSING}"
        );
        self.attribute(
            "3-mixed-document",
            "Who owns a mixed document: the author's, the AI's and a quoted source's parts",
            "3-mixed-document.txt",
            &document,
            None,
        )
    }
}
