#![no_main]
//! robots.txt (and ai.txt): parse, then ask verdicts for a few agents and paths.

use libfuzzer_sys::fuzz_target;
use tracemark_rights::robots::RobotsTxt;

fuzz_target!(|data: &[u8]| {
    let txt = RobotsTxt::parse(data);
    for agent in [None, Some("GPTBot"), Some("ExampleBot")] {
        for path in ["/", "/a/b.gif", "/robots.txt", "/%7Ex?y=*$"] {
            let _ = txt.verdict(agent, path);
        }
    }
    let _ = txt.named_agents();
});
