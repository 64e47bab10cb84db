//! Control characters in any text a GraphQL request carries — argument
//! literals, variable defaults and JSON variables — are refused before the
//! request runs, naming the field (`domain::text`). Checking the document
//! rather than each command keeps the rule the same at every mutation and on
//! both backends (Postgres cannot store NUL; SQLite could).

use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::parser::Positioned;
use async_graphql::{Value as ConstValue, Variables};
use async_graphql_value::Value;

/// Where in the request a text with a forbidden character sits, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlCharacter(pub domain::message::Message);

/// Checks every text the operation `operation` of `document` passes to a
/// field (the one that runs: no other operation's default can stand in for
/// its own): argument literals, and each variable where it is used — as the
/// argument or input field it feeds, so a variable named `$reason` cannot
/// carry a line break into an identifier (a variable's name says nothing of
/// its use). Fragments are checked with the same variables; unused variables
/// reach no field and are not checked.
pub fn check(
    document: &ExecutableDocument,
    operation: Option<&OperationDefinition>,
    variables: &Variables,
) -> Result<(), ControlCharacter> {
    let Some(operation) = operation else {
        // No operation runs (the schema refuses an ambiguous document).
        return Ok(());
    };
    let mut values: std::collections::HashMap<&str, &ConstValue> = std::collections::HashMap::new();
    for definition in &operation.variable_definitions {
        if let Some(default) = &definition.node.default_value {
            values.insert(definition.node.name.node.as_str(), &default.node);
        }
    }
    for (name, value) in variables.iter() {
        values.insert(name.as_str(), value);
    }
    let sets = std::iter::once(&operation.selection_set)
        .chain(document.fragments.values().map(|f| &f.node.selection_set));
    for set in sets {
        check_selections(set, &values)?;
    }
    Ok(())
}

/// Every argument of every field, with an explicit stack (the depth was
/// bounded before, but no recursion is needed).
fn check_selections(
    set: &Positioned<SelectionSet>,
    variables: &std::collections::HashMap<&str, &ConstValue>,
) -> Result<(), ControlCharacter> {
    let mut stack = vec![&set.node];
    while let Some(set) = stack.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    for (name, value) in &field.arguments {
                        let path = format!("{}.{}", field.name.node, name.node);
                        check_value(&path, name.node.as_str(), &value.node, variables)?;
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

/// A literal, following each variable it names to the value sent for it.
fn check_value(
    path: &str,
    field: &str,
    value: &Value,
    variables: &std::collections::HashMap<&str, &ConstValue>,
) -> Result<(), ControlCharacter> {
    let mut stack = vec![(path.to_string(), field.to_string(), value)];
    while let Some((path, field, value)) = stack.pop() {
        match value {
            Value::String(text) => refuse(&path, &field, text)?,
            Value::Variable(name) => {
                if let Some(sent) = variables.get(name.as_str()) {
                    check_const(&format!("${name}"), &field, sent)?;
                }
            }
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

/// A value sent for a variable used as `field`.
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
            ConstValue::Object(fields) => {
                for (name, item) in fields {
                    refuse(&path, "", name.as_str())?;
                    stack.push((format!("{path}.{name}"), name.to_string(), item));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The same rule over a JSON document (the partner API's business content,
/// a delivery report), walked as the GraphQL value it reads as.
pub fn check_json(path: &str, value: &serde_json::Value) -> Result<(), ControlCharacter> {
    let value = ConstValue::from_json(value.clone()).map_err(|_| {
        ControlCharacter(domain::message::message!("{path} is not a JSON document"))
    })?;
    check_const(path, "", &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str, variables: serde_json::Value) -> Result<(), ControlCharacter> {
        checked_named(query, None, variables)
    }

    fn checked_named(
        query: &str,
        name: Option<&str>,
        variables: serde_json::Value,
    ) -> Result<(), ControlCharacter> {
        use async_graphql::parser::types::DocumentOperations;
        let document = async_graphql::parser::parse_query(query).unwrap();
        let operation = match (&document.operations, name) {
            (DocumentOperations::Single(op), _) => Some(&op.node),
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
            _ => None,
        };
        check(&document, operation, &Variables::from_json(variables))
    }

    /// The operation that runs is checked with its own defaults: another
    /// operation's default of the same name cannot hide it.
    #[test]
    fn another_operation_s_default_cannot_stand_in() {
        let query = "mutation A($r: ID = \"a\\nb\") { cancelInterviewTask(id: $r, reason: \"x\") { taskId } } query B($r: ID = \"x\") { __typename }";
        for _ in 0..20 {
            assert!(checked_named(query, Some("A"), serde_json::json!({})).is_err());
        }
        assert_eq!(
            checked_named(query, Some("B"), serde_json::json!({})),
            Ok(())
        );
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
            "mutation($r: String = \"a\\u001b\") { cancelInterviewTask(id: \"a\", reason: $r) { taskId } }",
            serde_json::json!({}),
        );
        assert!(default.is_err(), "a default is checked where it is used");
    }

    /// A variable is held to the rule of the field it feeds, not its name:
    /// `$reason` used as an id may not carry a line break.
    #[test]
    fn a_variable_follows_the_rule_of_its_use() {
        let disguised = checked(
            "mutation($reason: ID!) { cancelInterviewTask(id: $reason, reason: \"x\") { taskId } }",
            serde_json::json!({ "reason": "a\nb" }),
        );
        assert_eq!(
            disguised,
            Err(ControlCharacter(domain::text::control_refusal(
                "$reason", '\n'
            )))
        );
        let free = checked(
            "mutation($why: String!) { cancelInterviewTask(id: \"a\", reason: $why) { taskId } }",
            serde_json::json!({ "why": "a\nb" }),
        );
        assert_eq!(free, Ok(()));
        let unused = checked(
            "query($x: String) { __typename }",
            serde_json::json!({ "x": "\u{0}" }),
        );
        assert_eq!(unused, Ok(()), "an unused variable reaches no field");
        assert!(check_json("bizContent", &serde_json::json!({ "na\u{0}me": "x" })).is_err());
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
