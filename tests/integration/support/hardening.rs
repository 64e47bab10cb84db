//! The requests that crashed or exhausted an earlier release.

use serde_json::{json, Value};

/// The requests from the issue that crashed the landed server (a list literal
/// 1,800 deep, nested input objects, a list in a variable's default value) or
/// ran for seconds and gigabytes (fragment trees of 24 and 26 levels).
pub(crate) fn reported_requests() -> Vec<(&'static str, Value)> {
    let fragment_tree = |levels: usize| {
        let mut query = String::from("query { ...L0 }\n");
        for level in 0..levels - 1 {
            query.push_str(&format!(
                "fragment L{level} on Query {{ ...L{next} ...L{next} }}\n",
                next = level + 1
            ));
        }
        query.push_str(&format!(
            "fragment L{} on Query {{ __typename }}",
            levels - 1
        ));
        query
    };
    vec![
        (
            "maxValueDepth",
            json!({ "query": format!("{{ task(id: {}\"x\"{}) {{ id }} }}", "[".repeat(1800), "]".repeat(1800)) }),
        ),
        (
            "maxValueDepth",
            json!({ "query": format!("{{ tasks(filter: {}\"x\"{}) {{ edges {{ cursor }} }} }}", "{contractNo: ".repeat(1800), "}".repeat(1800)) }),
        ),
        (
            "maxValueDepth",
            json!({ "query": format!("query($x: [[ID]] = {}\"x\"{}) {{ __typename }}", "[".repeat(1800), "]".repeat(1800)) }),
        ),
        (
            "maxExpandedSelections",
            json!({ "query": fragment_tree(24) }),
        ),
        (
            "maxExpandedSelections",
            json!({ "query": fragment_tree(26) }),
        ),
    ]
}
