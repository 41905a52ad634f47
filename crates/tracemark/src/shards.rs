//! An index's shards served by other machines: what a shard server answers
//! (`tracemark serve --index-shard DIR`, the [`ShardInfo`] and the three queries), and the
//! router's side ([`RemoteShards`]), which asks every shard at once with a deadline and
//! merges the answers exactly as one index would give them.
//!
//! A shard answers from token ids, so the router tokenizes once and the shards never
//! see text. An answer needs every shard: when one does not answer in time the result is
//! [`TraceError::Incomplete`], naming it, never a partial answer.

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tracemark_trace::{
    DocumentsResult, Index, IndexTokenizer, Partition, TraceError, TraceSource,
    shard::TokenizerInfo,
};

/// The format of a shard server's [`ShardInfo`].
pub const SHARD_INFO_FORMAT: &str = "tracemark.shard-info/v1";

/// Where a shard server answers (`{base}/v1/shard/info`, `/count`, `/longest`,
/// `/documents`).
pub const SHARD_API: &str = "/v1/shard";

/// The most live documents a shard lists for one query (a router asks for OLMoTrace's
/// 10; more would only make answers large).
pub const MAX_DOCUMENTS_LIMIT: usize = 1000;

/// What a shard server holds: enough for a router to check that its shards make one
/// index (one tokenizer, the partitions of one corpus in order) and to merge answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub format: String,
    pub tokenizer: TokenizerInfo,
    /// Which part of the corpus the shard holds (none for a whole index).
    pub partition: Option<Partition>,
    /// The suffix-array shards inside it (documents are numbered across them).
    pub shards: usize,
    pub documents: u64,
    pub tokens: u64,
    /// `(token, count)` for every token id that occurs.
    pub unigram: Vec<(u16, u64)>,
    /// The index's digest (`tracemark_trace::sharded::index_digest`: for a part, the
    /// one its sharded index's manifest records).
    pub digest: String,
}

impl ShardInfo {
    pub fn of(index: &Index) -> Result<Self, TraceError> {
        Ok(Self {
            digest: tracemark_trace::sharded::index_digest(index.dir())?,
            format: SHARD_INFO_FORMAT.to_owned(),
            tokenizer: index.manifest().tokenizer.clone(),
            partition: index.manifest().partition,
            shards: index.shards().len(),
            documents: index.total_documents(),
            tokens: index.total_tokens(),
            unigram: index
                .unigram_counts()
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c > 0)
                .map(|(t, &c)| (t as u16, c))
                .collect(),
        })
    }
}

/// `POST /v1/shard/count`: the count of each query.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountRequest {
    pub queries: Vec<Vec<u16>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CountResponse {
    pub counts: Vec<u64>,
}

/// `POST /v1/shard/longest`: for each position of `ids`, the longest match starting there.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongestRequest {
    pub ids: Vec<u16>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LongestResponse {
    pub lengths: Vec<usize>,
}

/// `POST /v1/shard/documents`: the documents containing each query.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentsRequest {
    pub queries: Vec<Vec<u16>>,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentsResponse {
    pub results: Vec<DocumentsResult>,
}

/// The shard server's answers, from the index it holds.
pub mod answer {
    use super::*;

    pub fn count(index: &Index, request: &CountRequest) -> CountResponse {
        CountResponse {
            counts: request.queries.iter().map(|q| index.count_ids(q)).collect(),
        }
    }

    pub fn longest(index: &Index, request: &LongestRequest) -> LongestResponse {
        LongestResponse {
            lengths: tracemark_trace::trace::longest_matches(index, &request.ids),
        }
    }

    pub fn documents(
        index: &Index,
        request: &DocumentsRequest,
    ) -> Result<DocumentsResponse, TraceError> {
        if request.limit > MAX_DOCUMENTS_LIMIT {
            return Err(TraceError::Parameter(format!(
                "limit must be at most {MAX_DOCUMENTS_LIMIT}"
            )));
        }
        let queries: Vec<&[u16]> = request.queries.iter().map(Vec::as_slice).collect();
        Ok(DocumentsResponse {
            results: index.documents(&queries, request.limit)?,
        })
    }
}

/// The shards as the router sees them, once every one has told what it holds.
#[derive(Debug)]
struct Layout {
    /// What the shards hold, for the report's inputs.
    digests: Vec<String>,
    /// Per shard server, the number of suffix-array shards before its own (documents
    /// are ordered by shard, so this keeps the whole index's order when merging).
    first_shard: Vec<usize>,
    unigram: Vec<u64>,
}

/// An index whose shards are served by other machines, queried as one.
pub struct RemoteShards {
    urls: Vec<String>,
    agent: ureq::Agent,
    tokenizer: Arc<dyn IndexTokenizer>,
    /// What each shard said it holds (asked again until every one has answered).
    infos: Mutex<Vec<Option<Arc<ShardInfo>>>>,
    layout: OnceLock<Layout>,
}

impl std::fmt::Debug for RemoteShards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteShards")
            .field("shards", &self.urls.len())
            .finish_non_exhaustive()
    }
}

/// What a shard failed with, for [`TraceError::Incomplete`].
fn missing(position: usize, url: &str, e: impl std::fmt::Display) -> (usize, String) {
    (position, format!("{url}: {e}"))
}

impl RemoteShards {
    /// The shard servers at `urls` (base URLs, in corpus order), each asked with
    /// `deadline` for a whole answer. Nothing is asked yet: a shard that is down now is
    /// named by the first query that needs it.
    pub fn new(urls: Vec<String>, tokenizer: Arc<dyn IndexTokenizer>, deadline: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(deadline))
            .max_redirects(0)
            .user_agent(format!("tracemark/{}", crate::VERSION))
            .build()
            .into();
        let urls: Vec<String> = urls
            .into_iter()
            .map(|u| u.trim_end_matches('/').to_owned())
            .collect();
        Self {
            infos: Mutex::new(vec![None; urls.len()]),
            urls,
            agent,
            tokenizer,
            layout: OnceLock::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.urls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// Asks every shard in `positions` at once; every one must answer.
    fn ask<R: DeserializeOwned + Send>(
        &self,
        positions: &[usize],
        call: impl Fn(&str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> + Sync,
    ) -> Result<Vec<R>, TraceError> {
        let answers: Vec<Result<R, (usize, String)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = positions
                .iter()
                .map(|&k| {
                    let url = &self.urls[k];
                    let call = &call;
                    scope.spawn(move || {
                        let mut response = call(url).map_err(|e| missing(k, url, e))?;
                        response
                            .body_mut()
                            .with_config()
                            .limit(256 << 20)
                            .read_json::<R>()
                            .map_err(|e| missing(k, url, e))
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(positions)
                .map(|(h, &k)| {
                    h.join()
                        .unwrap_or_else(|_| Err(missing(k, &self.urls[k], "the request panicked")))
                })
                .collect()
        });
        let mut ok = Vec::with_capacity(answers.len());
        let mut failed = Vec::new();
        for answer in answers {
            match answer {
                Ok(r) => ok.push(r),
                Err(m) => failed.push(m),
            }
        }
        if failed.is_empty() {
            Ok(ok)
        } else {
            Err(TraceError::Incomplete {
                of: self.urls.len(),
                missing: failed,
            })
        }
    }

    /// POSTs `body` to `path` of every shard.
    fn post<B: Serialize + Sync, R: DeserializeOwned + Send>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Vec<R>, TraceError> {
        let all: Vec<usize> = (0..self.urls.len()).collect();
        self.ask(&all, |url| {
            self.agent
                .post(format!("{url}{SHARD_API}/{path}"))
                .send_json(body)
        })
    }

    /// The layout, asking the shards that have not told what they hold yet.
    fn layout(&self) -> Result<&Layout, TraceError> {
        if let Some(layout) = self.layout.get() {
            return Ok(layout);
        }
        let mut infos = self.infos.lock().unwrap_or_else(|e| e.into_inner());
        let unknown: Vec<usize> = (0..infos.len()).filter(|&k| infos[k].is_none()).collect();
        let fetched: Vec<ShardInfo> = self.ask(&unknown, |url| {
            self.agent.get(format!("{url}{SHARD_API}/info")).call()
        })?;
        for (k, info) in unknown.into_iter().zip(fetched) {
            infos[k] = Some(Arc::new(info));
        }
        let infos: Vec<Arc<ShardInfo>> = infos.iter().flatten().cloned().collect();
        let layout = self.check(&infos)?;
        Ok(self.layout.get_or_init(|| layout))
    }

    /// Checks that the shards make one index, and lays them out.
    fn check(&self, infos: &[Arc<ShardInfo>]) -> Result<Layout, TraceError> {
        let n = infos.len();
        let refuse = |reason: String| Err(TraceError::ShardSet { reason });
        for (k, info) in infos.iter().enumerate() {
            let url = &self.urls[k];
            if info.format != SHARD_INFO_FORMAT {
                return refuse(format!("{url} answers in format `{}`", info.format));
            }
            if info.tokenizer.identity != self.tokenizer.identity() {
                return refuse(format!(
                    "{url} was built with tokenizer {}, the router queries with {}",
                    info.tokenizer.identity,
                    self.tokenizer.identity()
                ));
            }
            match info.partition {
                None if n == 1 => {}
                None => return refuse(format!("{url} serves a whole index, not a shard of one")),
                Some(p) if p.of != n || p.index != k => {
                    return refuse(format!(
                        "{url} serves shard {} of {}, but is listed as shard {k} of {n} \
                         (list every shard of the index, in order)",
                        p.index, p.of
                    ));
                }
                Some(_) => {}
            }
        }
        let mut first_shard = Vec::with_capacity(n);
        let mut unigram = vec![0u64; 1 << 16];
        let mut shards = 0;
        for info in infos {
            first_shard.push(shards);
            shards += info.shards;
            for &(t, c) in &info.unigram {
                unigram[t as usize] += c;
            }
        }
        Ok(Layout {
            digests: infos.iter().map(|i| i.digest.clone()).collect(),
            first_shard,
            unigram,
        })
    }

    /// The digests of what the shards hold, in order (asking them if need be).
    pub fn digests(&self) -> Result<&[String], TraceError> {
        Ok(&self.layout()?.digests)
    }

    /// The count of each query over every shard.
    pub fn counts(&self, queries: Vec<Vec<u16>>) -> Result<Vec<u64>, TraceError> {
        self.layout()?;
        let n = queries.len();
        let answers: Vec<CountResponse> = self.post("count", &CountRequest { queries })?;
        let mut total = vec![0u64; n];
        for answer in answers {
            if answer.counts.len() != n {
                return Err(TraceError::ShardSet {
                    reason: "a shard answered a different number of counts".into(),
                });
            }
            total
                .iter_mut()
                .zip(answer.counts)
                .for_each(|(t, c)| *t += c);
        }
        Ok(total)
    }

    /// The count of a text, tokenized with the index's tokenizer.
    pub fn count(&self, text: &str) -> Result<u64, TraceError> {
        let ids = self.tokenizer.encode_ids(text)?;
        Ok(self.counts(vec![ids])?[0])
    }
}

impl TraceSource for RemoteShards {
    fn tokenizer(&self) -> &dyn IndexTokenizer {
        &*self.tokenizer
    }

    fn unigram_counts(&self) -> Result<&[u64], TraceError> {
        Ok(&self.layout()?.unigram)
    }

    fn longest_matches(&self, ids: &[u16]) -> Result<Vec<usize>, TraceError> {
        self.layout()?;
        let answers: Vec<LongestResponse> =
            self.post("longest", &LongestRequest { ids: ids.to_vec() })?;
        let mut best = vec![0usize; ids.len()];
        for answer in answers {
            if answer.lengths.len() != ids.len() {
                return Err(TraceError::ShardSet {
                    reason: "a shard answered lengths for a different text".into(),
                });
            }
            best.iter_mut()
                .zip(answer.lengths)
                .for_each(|(b, l)| *b = (*b).max(l));
        }
        Ok(best)
    }

    fn documents(
        &self,
        queries: &[&[u16]],
        limit: usize,
    ) -> Result<Vec<DocumentsResult>, TraceError> {
        let layout = self.layout()?;
        let request = DocumentsRequest {
            queries: queries.iter().map(|q| q.to_vec()).collect(),
            limit,
        };
        let answers: Vec<DocumentsResponse> = self.post("documents", &request)?;
        if answers.iter().any(|a| a.results.len() != queries.len()) {
            return Err(TraceError::ShardSet {
                reason: "a shard answered a different number of queries".into(),
            });
        }
        let mut per_shard: Vec<_> = answers.into_iter().map(|a| a.results.into_iter()).collect();
        Ok((0..queries.len())
            .map(|_| {
                let parts = per_shard
                    .iter_mut()
                    .zip(&layout.first_shard)
                    .filter_map(|(results, &first)| results.next().map(|r| (first, r)));
                DocumentsResult::merge(parts.collect::<Vec<_>>(), limit)
            })
            .collect())
    }
}
