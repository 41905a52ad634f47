//! The attribution service: the HTTP API (OpenAI-compatible marked generation, detect,
//! verify, trace, attribute, the log's C2SP tiles) and the web page, over the same
//! pipelines as the command line (`tracemark`).
