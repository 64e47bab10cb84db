//! Control characters in any text a GraphQL request carries — argument
//! literals, variable defaults and JSON variables — are refused before the
//! request runs, naming the field (`domain::text`). Checking the document
//! rather than each command keeps the rule the same at every mutation and on
//! both backends (Postgres cannot store NUL; SQLite could).

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::parser::Positioned;
use async_graphql::{Value as ConstValue, Variables};
use async_graphql_value::Value;

/// Where in the request a text with a forbidden character sits, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlCharacter(pub String);

/// Checks every text in `document` and `variables`.
pub fn check(document: &ExecutableDocument, variables: &Variables) -> Result<(), ControlCharacter> {
    for (name, value) in variables.iter() {
        check_const(&format!("${name}"), name.as_str(), value)?;
    }
    let operations = document.operations.iter().map(|(_, op)| {
        for definition in &op.node.variable_definitions {
            if let Some(default) = &definition.node.default_value {
                let name = definition.node.name.node.as_str();
                check_const(&format!("${name}"), name, &default.node)?;
            }
        }
        check_selections(&op.node.selection_set)
    });
    for checked in operations {
        checked?;
    }
    for fragment in document.fragments.values() {
        check_selections(&fragment.node.selection_set)?;
    }
    Ok(())
}

/// Every argument of every field, with an explicit stack (the depth was
/// bounded before, but no recursion is needed).
fn check_selections(set: &Positioned<SelectionSet>) -> Result<(), ControlCharacter> {
    let mut stack = vec![&set.node];
    while let Some(set) = stack.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    for (name, value) in &field.arguments {
                        let path = format!("{}.{}", field.name.node, name.node);
                        check_value(&path, name.node.as_str(), &value.node)?;
                    }
                    stack.push(&field.selection_set.node);
                }
                Selection::InlineFragment(inline) => stack.push(&inline.node.selection_set.node),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    Ok(())
}

fn refuse(path: &str, field: &str, text: &str) -> Result<(), ControlCharacter> {
    match domain::text::forbidden_control(text, domain::text::is_free_text(field)) {
        Some(c) => Err(ControlCharacter(domain::text::control_refusal(path, c))),
        None => Ok(()),
    }
}

fn check_value(path: &str, field: &str, value: &Value) -> Result<(), ControlCharacter> {
    let mut stack = vec![(path.to_string(), field.to_string(), value)];
    while let Some((path, field, value)) = stack.pop() {
        match value {
            Value::String(text) => refuse(&path, &field, text)?,
            Value::List(items) => stack.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (format!("{path}[{i}]"), field.clone(), item)),
            ),
            Value::Object(fields) => stack.extend(
                fields
                    .iter()
                    .map(|(name, item)| (format!("{path}.{name}"), name.to_string(), item)),
            ),
            _ => {}
        }
    }
    Ok(())
}

fn check_const(path: &str, field: &str, value: &ConstValue) -> Result<(), ControlCharacter> {
    let mut stack = vec![(path.to_string(), field.to_string(), value)];
    while let Some((path, field, value)) = stack.pop() {
        match value {
            ConstValue::String(text) => refuse(&path, &field, text)?,
            ConstValue::List(items) => stack.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (format!("{path}[{i}]"), field.clone(), item)),
            ),
            ConstValue::Object(fields) => stack.extend(
                fields
                    .iter()
                    .map(|(name, item)| (format!("{path}.{name}"), name.to_string(), item)),
            ),
            _ => {}
        }
    }
    Ok(())
}

/// The same rule over a JSON document (the partner API's business content).
pub fn check_json(path: &str, value: &serde_json::Value) -> Result<(), ControlCharacter> {
    let mut stack = vec![(path.to_string(), String::new(), value)];
    while let Some((path, field, value)) = stack.pop() {
        match value {
            serde_json::Value::String(text) => refuse(&path, &field, text)?,
            serde_json::Value::Array(items) => stack.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (format!("{path}[{i}]"), field.clone(), item)),
            ),
            serde_json::Value::Object(fields) => stack.extend(
                fields
                    .iter()
                    .map(|(name, item)| (format!("{path}.{name}"), name.clone(), item)),
            ),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str, variables: serde_json::Value) -> Result<(), ControlCharacter> {
        let document = async_graphql::parser::parse_query(query).unwrap();
        check(&document, &Variables::from_json(variables))
    }

    #[test]
    fn literals_defaults_and_variables_name_the_field() {
        assert_eq!(
            checked(
                "mutation { cancelInterviewTask(id: \"a\\u0000b\", reason: \"x\") { taskId } }",
                serde_json::json!({})
            ),
            Err(ControlCharacter(domain::text::control_refusal(
                "cancelInterviewTask.id",
                '\0'
            )))
        );
        let nested = checked(
            "mutation($i: CreateInterviewTaskInput!) { createInterviewTask(input: $i) { taskId } }",
            serde_json::json!({ "i": { "participants": [{ "name": "邓\u{0}闲" }] } }),
        );
        assert_eq!(
            nested,
            Err(ControlCharacter(domain::text::control_refusal(
                "$i.participants[0].name",
                '\0'
            )))
        );
        let default = checked(
            "query($r: String = \"a\\u001b\") { __typename }",
            serde_json::json!({}),
        );
        assert!(default.is_err());
    }

    #[test]
    fn free_text_keeps_tab_and_line_breaks_and_clean_text_passes() {
        assert_eq!(
            checked(
                "mutation { cancelInterviewTask(id: \"a\", reason: \"客户要求\\n改期\\t\") { taskId } }",
                serde_json::json!({})
            ),
            Ok(())
        );
        assert!(checked(
            "mutation { cancelInterviewTask(id: \"a\\nb\", reason: \"x\") { taskId } }",
            serde_json::json!({})
        )
        .is_err());
        assert_eq!(
            check_json(
                "bizContent",
                &serde_json::json!({ "name": "邓小闲", "items": [{ "reason": "a\nb" }] })
            ),
            Ok(())
        );
        assert!(check_json("bizContent", &serde_json::json!({ "name": "邓\u{0}" })).is_err());
    }
}
