//! Use case 2: an output traced to the training data, to an opted-out work.

use tracemark::Result;

use super::{UseCase, UseCases, paragraphs};
use crate::corpus::{OPTED_OUT_DOCUMENT, read_corpus_text};

impl UseCases<'_> {
    /// Use case 2: an output that reproduces passages of a document whose owner had
    /// reserved text and data mining before it was collected (as a model that memorised
    /// it would: the demo splices two of its passages into the model's text).
    pub(crate) fn trace_to_training_data(&mut self) -> Result<UseCase> {
        let source = read_corpus_text(self.corpus, OPTED_OUT_DOCUMENT)?;
        let output = format!(
            "{}\n\n{}\n\n{}\n\n{}\n",
            self.unmarked(3, 60)?,
            paragraphs(&source, 0, 1),
            self.unmarked(4, 60)?,
            paragraphs(&source, 2, 1),
        );
        self.attribute(
            "2-trace-to-training-data",
            "Trace to the training data: an output reproducing an opted-out work",
            "2-trace-to-training-data.txt",
            &output,
            None,
        )
    }
}
