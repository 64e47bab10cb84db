//! Bounds every GraphQL document must fit before it is parsed into a tree,
//! validated, authenticated or executed.
//!
//! The parser and async-graphql's validators recurse over nested values and
//! walk fragment spreads once per use, so a few kilobytes can overflow a stack
//! (a list literal nested 2,000 deep) or expand exponentially (24 fragments each
//! spreading the next twice). Two passes keep every step proportional to the
//! text and shallow:
//!
//! 1. [`scan`] reads the text once as GraphQL tokens, without recursion, and
//!    refuses it over the token budget or when brackets nest too deep.
//! 2. Only then is it parsed; [`QueryLimits::admit`] counts aliases, selections
//!    and directives as written and, fragment by fragment (each counted once,
//!    memoised, in an explicit stack), the selections after spreading every
//!    fragment where it is used. Nothing proportional to the expansion is built.
//!
//! A refusal names the limit and its setting and carries code `VALIDATION`.

use domain::message::{message, Localized, Message};
use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::parser::Positioned;
use async_graphql::{Name, Request, Value as ConstValue};

/// The caps of one GraphQL request; each is a setting (docs/security.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Tokens in the document (names, punctuators, strings, numbers).
    pub max_tokens: usize,
    /// Nesting of list and input-object values: argument literals, variable
    /// default values, variable types, and the JSON variables themselves.
    pub max_value_depth: usize,
    /// Nesting of selection sets, as written and after spreading fragments.
    pub max_depth: usize,
    /// Aliased fields in the document.
    pub max_aliases: usize,
    /// Selections as written: fields, fragment spreads and inline fragments.
    pub max_selections: usize,
    /// Selections once every fragment spread is replaced by its fragment,
    /// summed over the document's operations.
    pub max_expanded_selections: usize,
    /// Directives in the document.
    pub max_directives: usize,
    /// Names in the document (fields, arguments, types, variables, enum
    /// values): each unknown one costs validation a lookup and an error.
    pub max_names: usize,
    /// The longest name, in bytes: the schema's longest is under 40.
    pub max_name_length: usize,
    /// The document's text in bytes, comments and whitespace included (the
    /// variables have the rest of the body): what parsing may cost.
    pub max_document_bytes: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_tokens: 10_000,
            max_value_depth: 16,
            // GraphiQL's standard introspection query nests 13 deep.
            max_depth: 15,
            max_aliases: 64,
            max_selections: 1_000,
            max_expanded_selections: 2_000,
            max_directives: 64,
            max_names: 3_000,
            max_name_length: 128,
            max_document_bytes: 64 * 1024,
        }
    }
}

/// Which cap a request broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`QueryLimits::max_tokens`].
    Tokens,
    /// [`QueryLimits::max_value_depth`].
    ValueDepth,
    /// [`QueryLimits::max_depth`].
    Depth,
    /// [`QueryLimits::max_aliases`].
    Aliases,
    /// [`QueryLimits::max_selections`].
    Selections,
    /// [`QueryLimits::max_expanded_selections`].
    ExpandedSelections,
    /// [`QueryLimits::max_directives`].
    Directives,
    /// [`QueryLimits::max_names`].
    Names,
    /// [`QueryLimits::max_name_length`].
    NameLength,
    /// [`QueryLimits::max_document_bytes`].
    DocumentBytes,
}

impl Limit {
    /// The limit's name in `extensions.limit`.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Tokens => "maxTokens",
            Limit::ValueDepth => "maxValueDepth",
            Limit::Depth => "maxDepth",
            Limit::Aliases => "maxAliases",
            Limit::Selections => "maxSelections",
            Limit::ExpandedSelections => "maxExpandedSelections",
            Limit::Directives => "maxDirectives",
            Limit::Names => "maxNames",
            Limit::NameLength => "maxNameLength",
            Limit::DocumentBytes => "maxDocumentBytes",
        }
    }

    /// The environment variable that sets it.
    pub fn setting(self) -> &'static str {
        match self {
            Limit::Tokens => "FACESIGN_GRAPHQL_MAX_TOKENS",
            Limit::ValueDepth => "FACESIGN_GRAPHQL_MAX_VALUE_DEPTH",
            Limit::Depth => "FACESIGN_GRAPHQL_MAX_DEPTH",
            Limit::Aliases => "FACESIGN_GRAPHQL_MAX_ALIASES",
            Limit::Selections => "FACESIGN_GRAPHQL_MAX_SELECTIONS",
            Limit::ExpandedSelections => "FACESIGN_GRAPHQL_MAX_EXPANDED_SELECTIONS",
            Limit::Directives => "FACESIGN_GRAPHQL_MAX_DIRECTIVES",
            Limit::Names => "FACESIGN_GRAPHQL_MAX_NAMES",
            Limit::NameLength => "FACESIGN_GRAPHQL_MAX_NAME_LENGTH",
            Limit::DocumentBytes => "FACESIGN_GRAPHQL_MAX_DOCUMENT_BYTES",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Limit::Tokens => "tokens",
            Limit::ValueDepth => "nesting of list and input-object values",
            Limit::Depth => "nesting of selection sets",
            Limit::Aliases => "aliases",
            Limit::Selections => "selections",
            Limit::ExpandedSelections => "selections after spreading fragments",
            Limit::Directives => "directives",
            Limit::Names => "names",
            Limit::NameLength => "bytes in one name",
            Limit::DocumentBytes => "bytes of the document",
        }
    }
}

/// Why a request was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Over a cap; counting stopped as soon as it was passed.
    OverLimit {
        /// The cap.
        limit: Limit,
        /// Its configured value.
        max: usize,
    },
    /// The document is not GraphQL (parse error), or spreads fragments in a cycle.
    Malformed(Message),
    /// A text holds a control character its field may not (`domain::text`).
    ControlCharacter(Message),
}

impl Refusal {
    /// The limit broken, if any (for `extensions.limit`).
    pub fn limit(&self) -> Option<Limit> {
        match self {
            Refusal::OverLimit { limit, .. } => Some(*limit),
            Refusal::Malformed(_) | Refusal::ControlCharacter(_) => None,
        }
    }
}

impl Localized for Refusal {
    fn message(&self) -> Message {
        match self {
            Refusal::OverLimit { limit, max } => message!(
                "the request exceeds {limit} ({what}): at most {max} ({setting})",
                limit = limit.name(),
                what = limit.what(),
                setting = limit.setting()
            ),
            Refusal::Malformed(reason) => {
                message!(
                    "the query is not valid GraphQL: {reason}",
                    reason = reason.clone()
                )
            }
            Refusal::ControlCharacter(reason) => reason.clone(),
        }
    }
}

impl std::fmt::Display for Refusal {
    /// English, for the log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.message().fmt(f)
    }
}

/// What admission learnt about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// Whether the operation to run is a mutation (idempotency keys apply).
    pub is_mutation: bool,
    /// Whether it asks for nothing but `__typename`: the only operation a
    /// caller without a token is answered (everything else needs a role).
    pub open_to_anyone: bool,
    /// Whether it is a subscription (a stream), not one answer.
    pub is_subscription: bool,
}

fn over(limit: Limit, max: usize) -> Refusal {
    Refusal::OverLimit { limit, max }
}

/// Reads `query` as GraphQL tokens in one pass without recursion; refuses it
/// over the token or name budget, for a name over the longest accepted, or
/// when brackets nest deeper than the caps. Inside
/// parentheses (arguments, variable definitions, directive arguments) `[` and
/// `{` open values and count against `max_value_depth`; outside, `{` opens a
/// selection set and counts against `max_depth`.
pub fn scan(query: &str, limits: &QueryLimits) -> Result<(), Refusal> {
    if query.len() > limits.max_document_bytes {
        return Err(over(Limit::DocumentBytes, limits.max_document_bytes));
    }
    let bytes = query.as_bytes();
    let (mut i, mut tokens, mut names) = (0usize, 0usize, 0usize);
    let (mut parens, mut values, mut selections) = (0usize, 0usize, 0usize);
    let mut token = || {
        tokens += 1;
        if tokens > limits.max_tokens {
            Err(over(Limit::Tokens, limits.max_tokens))
        } else {
            Ok(())
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                token()?;
                i += 3;
                loop {
                    if i >= bytes.len() {
                        break;
                    }
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if bytes[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                token()?;
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\n' | b'\r' => break,
                        _ => i += 1,
                    }
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                token()?;
                i += 3;
            }
            b'(' => {
                token()?;
                parens += 1;
                // Arguments never contain parentheses: a second level is only
                // ever hostile, and counts as value nesting.
                if parens > 1 {
                    values += 1;
                }
                if values > limits.max_value_depth {
                    return Err(over(Limit::ValueDepth, limits.max_value_depth));
                }
                i += 1;
            }
            b')' => {
                token()?;
                if parens > 1 {
                    values = values.saturating_sub(1);
                }
                parens = parens.saturating_sub(1);
                i += 1;
            }
            b'[' => {
                token()?;
                values += 1;
                if values > limits.max_value_depth {
                    return Err(over(Limit::ValueDepth, limits.max_value_depth));
                }
                i += 1;
            }
            b'{' if parens > 0 => {
                token()?;
                values += 1;
                if values > limits.max_value_depth {
                    return Err(over(Limit::ValueDepth, limits.max_value_depth));
                }
                i += 1;
            }
            b'{' => {
                token()?;
                selections += 1;
                if selections > limits.max_depth {
                    return Err(over(Limit::Depth, limits.max_depth));
                }
                i += 1;
            }
            b']' => {
                token()?;
                values = values.saturating_sub(1);
                i += 1;
            }
            b'}' if parens > 0 => {
                token()?;
                values = values.saturating_sub(1);
                i += 1;
            }
            b'}' => {
                token()?;
                selections = selections.saturating_sub(1);
                i += 1;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.' || b == b'+' => {
                token()?;
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'-' | b'.' | b'+'))
                {
                    i += 1;
                }
                // A name starts with a letter or `_`; numbers are not counted.
                if b.is_ascii_alphabetic() || b == b'_' {
                    names += 1;
                    if names > limits.max_names {
                        return Err(over(Limit::Names, limits.max_names));
                    }
                    if i - start > limits.max_name_length {
                        return Err(over(Limit::NameLength, limits.max_name_length));
                    }
                }
            }
            _ => {
                // `!`, `$`, `&`, `:`, `=`, `@`, `|`, a byte-order mark, or
                // anything the parser will refuse: one token each.
                token()?;
                i += 1;
            }
        }
    }
    Ok(())
}

/// The most validation errors a response carries: a document of a thousand
/// unknown fields has a thousand errors, and writing, localizing and sending
/// them all cost more than finding them (issue 31). The last one says how
/// many more there were.
pub const MAX_VALIDATION_ERRORS: usize = 20;

/// Keeps the first [`MAX_VALIDATION_ERRORS`] errors of a refused document.
pub struct ValidationErrorCap;

impl async_graphql::extensions::ExtensionFactory for ValidationErrorCap {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(ValidationErrorCap)
    }
}

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for ValidationErrorCap {
    async fn validation(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        next: async_graphql::extensions::NextValidation<'_>,
    ) -> Result<async_graphql::ValidationResult, Vec<async_graphql::ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            if errors.len() > MAX_VALIDATION_ERRORS {
                let more = errors.len() - (MAX_VALIDATION_ERRORS - 1);
                errors.truncate(MAX_VALIDATION_ERRORS - 1);
                let message = message!("and {more} more errors in the document");
                let mut error = async_graphql::ServerError::new(message.to_string(), None);
                error.source = Some(std::sync::Arc::new(message));
                errors.push(error);
            }
            errors
        })
    }
}

/// Nesting of a JSON variable value, counted without recursion; refused past `max`.
fn check_value_depth(value: &ConstValue, max: usize) -> Result<(), Refusal> {
    let mut stack: Vec<(&ConstValue, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &ConstValue>> = match value {
            ConstValue::List(items) => Box::new(items.iter()),
            ConstValue::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth + 1 > max {
            return Err(over(Limit::ValueDepth, max));
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    Ok(())
}

/// What one selection set holds as written: its own counts and the fragments
/// it spreads (by name, once per spread), with the depth each spread sits at.
#[derive(Default)]
struct Written<'a> {
    selections: usize,
    aliases: usize,
    directives: usize,
    spreads: Vec<(&'a Name, usize)>,
    depth: usize,
}

/// Walks a selection set (already bounded in depth by [`scan`]) with an explicit stack.
fn written(set: &Positioned<SelectionSet>) -> Written<'_> {
    let mut out = Written::default();
    let mut stack: Vec<(&SelectionSet, usize)> = vec![(&set.node, 1)];
    while let Some((set, depth)) = stack.pop() {
        out.depth = out.depth.max(depth);
        for item in &set.items {
            out.selections += 1;
            out.directives += item.node.directives().len();
            match &item.node {
                Selection::Field(field) => {
                    out.aliases += usize::from(field.node.alias.is_some());
                    if !field.node.selection_set.node.items.is_empty() {
                        stack.push((&field.node.selection_set.node, depth + 1));
                    }
                }
                Selection::FragmentSpread(spread) => {
                    out.spreads.push((&spread.node.fragment_name.node, depth));
                }
                Selection::InlineFragment(inline) => {
                    stack.push((&inline.node.selection_set.node, depth));
                }
            }
        }
    }
    out
}

/// Size and depth of a fragment once everything it spreads is spread too.
#[derive(Clone, Copy)]
struct Expanded {
    selections: usize,
    depth: usize,
}

impl QueryLimits {
    /// Checks `request` against every cap before anything else looks at it,
    /// and leaves the parsed document in it so it is parsed only once.
    pub fn admit(&self, request: &mut Request) -> Result<Admitted, Refusal> {
        self.scan_request(request)?;
        self.admit_scanned(request)
    }

    /// The linear first pass of [`Self::admit`]: the document's tokens,
    /// names and nesting, and the variables' nesting; nothing is parsed.
    pub fn scan_request(&self, request: &Request) -> Result<(), Refusal> {
        scan(&request.query, self)?;
        for value in request.variables.values() {
            check_value_depth(value, self.max_value_depth)?;
        }
        Ok(())
    }

    /// The rest of [`Self::admit`] for a request that passed [`Self::scan_request`].
    pub fn admit_scanned(&self, request: &mut Request) -> Result<Admitted, Refusal> {
        let document = async_graphql::parser::parse_query(&request.query)
            .map_err(|e| Refusal::Malformed(Message::verbatim(e.to_string())))?;
        self.check_document(&document)?;
        let operation = selected_operation(&document, request.operation_name.as_deref());
        crate::text_input::check(&document, operation, &request.variables)
            .map_err(|refused| Refusal::ControlCharacter(refused.0))?;
        let is_mutation = operation.is_some_and(|op| op.ty == OperationType::Mutation);
        let open_to_anyone = operation.is_some_and(only_typename);
        let is_subscription = operation.is_some_and(|op| op.ty == OperationType::Subscription);
        request.set_parsed_query(document);
        Ok(Admitted {
            is_mutation,
            open_to_anyone,
            is_subscription,
        })
    }

    /// The counts of a parsed document (the text already passed [`scan`]).
    pub fn check_document(&self, document: &ExecutableDocument) -> Result<(), Refusal> {
        let fragments: HashMap<&Name, Written<'_>> = document
            .fragments
            .iter()
            .map(|(name, fragment)| (name, written(&fragment.node.selection_set)))
            .collect();
        let operations: Vec<Written<'_>> = document
            .operations
            .iter()
            .map(|(_, operation)| written(&operation.node.selection_set))
            .collect();
        let (mut selections, mut aliases, mut directives) = (0usize, 0usize, 0usize);
        for part in fragments.values().chain(operations.iter()) {
            selections += part.selections;
            aliases += part.aliases;
            directives += part.directives;
        }
        if selections > self.max_selections {
            return Err(over(Limit::Selections, self.max_selections));
        }
        if aliases > self.max_aliases {
            return Err(over(Limit::Aliases, self.max_aliases));
        }
        if directives > self.max_directives {
            return Err(over(Limit::Directives, self.max_directives));
        }
        let expanded = self.expand_fragments(&fragments)?;
        let mut total = 0usize;
        for operation in &operations {
            let size = self.spread_into(operation, &expanded)?;
            total = total.saturating_add(size.selections);
            if total > self.max_expanded_selections {
                return Err(over(
                    Limit::ExpandedSelections,
                    self.max_expanded_selections,
                ));
            }
            if size.depth > self.max_depth {
                return Err(over(Limit::Depth, self.max_depth));
            }
        }
        Ok(())
    }

    /// One part's size with its spreads replaced by their (already expanded)
    /// fragments; a spread of an unknown fragment counts as one selection
    /// (validation refuses it later).
    fn spread_into(
        &self,
        part: &Written<'_>,
        expanded: &HashMap<&Name, Expanded>,
    ) -> Result<Expanded, Refusal> {
        let mut size = Expanded {
            selections: part.selections,
            depth: part.depth,
        };
        for (name, at) in &part.spreads {
            if let Some(fragment) = expanded.get(name) {
                size.selections = size.selections.saturating_add(fragment.selections);
                size.depth = size
                    .depth
                    .max(at.saturating_add(fragment.depth).saturating_sub(1));
            }
            if size.selections > self.max_expanded_selections {
                return Err(over(
                    Limit::ExpandedSelections,
                    self.max_expanded_selections,
                ));
            }
            if size.depth > self.max_depth {
                return Err(over(Limit::Depth, self.max_depth));
            }
        }
        Ok(size)
    }

    /// Every fragment's expanded size, each computed once (depth-first, with
    /// an explicit stack, so a chain of thousands of fragments cannot overflow).
    fn expand_fragments<'a>(
        &self,
        fragments: &'a HashMap<&'a Name, Written<'a>>,
    ) -> Result<HashMap<&'a Name, Expanded>, Refusal> {
        let mut done: HashMap<&Name, Expanded> = HashMap::with_capacity(fragments.len());
        let mut on_path: std::collections::HashSet<&Name> = std::collections::HashSet::new();
        for root in fragments.keys() {
            if done.contains_key(root) {
                continue;
            }
            // (fragment, index of the next spread to look at)
            let mut stack: Vec<(&Name, usize)> = vec![(root, 0)];
            on_path.insert(root);
            while let Some((name, next)) = stack.last_mut() {
                let part = &fragments[name];
                if let Some((child, _)) = part.spreads.get(*next) {
                    *next += 1;
                    if done.contains_key(child) || !fragments.contains_key(child) {
                        continue;
                    }
                    if !on_path.insert(child) {
                        return Err(Refusal::Malformed(message!(
                            "fragment {child} spreads itself (a cycle)"
                        )));
                    }
                    stack.push((child, 0));
                    continue;
                }
                let name = *name;
                let size = self.spread_into(part, &done)?;
                done.insert(name, size);
                on_path.remove(name);
                stack.pop();
            }
        }
        Ok(done)
    }
}

/// The operation a request runs (by name, or the only one).
fn selected_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        _ => None,
    }
}

/// Whether an operation asks for nothing but `__typename` (which anyone may).
fn only_typename(operation: &OperationDefinition) -> bool {
    operation.selection_set.node.items.iter().all(|item| {
        matches!(&item.node, Selection::Field(field) if field.node.name.node == "__typename")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit(query: &str) -> Result<Admitted, Refusal> {
        QueryLimits::default().admit(&mut Request::new(query))
    }

    fn limit_of(query: &str) -> Option<Limit> {
        admit(query).err().and_then(|refusal| refusal.limit())
    }

    /// The requests that crashed or exhausted the landed server (issue: no
    /// request can crash or exhaust the server), each refused by its cap.
    #[test]
    fn the_reported_requests_are_refused_by_name() {
        let nested_list = format!(
            "{{ task(id: {}\"x\"{}) {{ id }} }}",
            "[".repeat(1800),
            "]".repeat(1800)
        );
        assert_eq!(limit_of(&nested_list), Some(Limit::ValueDepth));
        let nested_object = format!(
            "{{ tasks(filter: {}\"x\"{}) {{ edges {{ cursor }} }} }}",
            "{contractNo: ".repeat(1800),
            "}".repeat(1800)
        );
        assert_eq!(limit_of(&nested_object), Some(Limit::ValueDepth));
        let default_value = format!(
            "query($x: [[ID]] = {}1{}) {{ __typename }}",
            "[".repeat(1800),
            "]".repeat(1800)
        );
        assert_eq!(limit_of(&default_value), Some(Limit::ValueDepth));
        for levels in [24, 26, 40] {
            let mut bomb = String::from("query { ...L0 }\n");
            for level in 0..levels - 1 {
                bomb.push_str(&format!(
                    "fragment L{level} on Query {{ ...L{next} ...L{next} }}\n",
                    next = level + 1
                ));
            }
            bomb.push_str(&format!(
                "fragment L{} on Query {{ __typename }}",
                levels - 1
            ));
            assert_eq!(
                limit_of(&bomb),
                Some(Limit::ExpandedSelections),
                "{levels} levels"
            );
        }
    }

    #[test]
    fn ordinary_queries_pass_and_mutations_are_recognised() {
        assert_eq!(
            admit("{ tasks(first: 5, filter: {contractNo: \"HT-1\"}) { edges { node { id participants { name } } } } }"),
            Ok(Admitted { is_mutation: false, open_to_anyone: false, is_subscription: false })
        );
        assert_eq!(
            admit("mutation M($i: CreateInterviewTaskInput!) { createInterviewTask(input: $i) { taskId } }"),
            Ok(Admitted { is_mutation: true, open_to_anyone: false, is_subscription: false })
        );
        let mut named =
            Request::new("query A { __typename } mutation B { __typename }").operation_name("B");
        assert_eq!(
            QueryLimits::default().admit(&mut named),
            Ok(Admitted {
                is_mutation: true,
                open_to_anyone: true,
                is_subscription: false
            })
        );
    }

    /// GraphiQL and clients send the standard introspection query: it fits.
    #[test]
    fn the_introspection_query_fits() {
        let query = include_str!("../testdata/introspection_query.graphql");
        assert_eq!(
            admit(query),
            Ok(Admitted {
                is_mutation: false,
                open_to_anyone: false,
                is_subscription: false
            })
        );
    }

    #[test]
    fn each_count_is_capped() {
        let limits = QueryLimits {
            max_tokens: 100_000,
            ..QueryLimits::default()
        };
        let aliases = format!(
            "{{ {} }}",
            (0..65)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(
            limits
                .admit(&mut Request::new(aliases))
                .err()
                .and_then(|r| r.limit()),
            Some(Limit::Aliases)
        );
        let fields = format!("{{ {} }}", "__typename ".repeat(1001));
        assert_eq!(
            limits
                .admit(&mut Request::new(fields))
                .err()
                .and_then(|r| r.limit()),
            Some(Limit::Selections)
        );
        let deep = format!("{}{}", "{ a ".repeat(16), "}".repeat(16));
        assert_eq!(limit_of(&deep), Some(Limit::Depth));
        let directives = format!("{{ __typename {} }}", "@include(if: true) ".repeat(65));
        assert_eq!(
            limits
                .admit(&mut Request::new(directives))
                .err()
                .and_then(|r| r.limit()),
            Some(Limit::Directives)
        );
        let tokens = format!("{{ a(x: [{}]) }}", "1 ".repeat(10_001));
        assert_eq!(limit_of(&tokens), Some(Limit::Tokens));
    }

    /// Issue 31: 900 unknown names of 1,000 characters cost 1.7 s of CPU in
    /// "Did you mean" suggestions. A name over the longest accepted, or a
    /// document of too many names, is refused before it is parsed.
    #[test]
    fn long_and_numerous_names_are_refused_before_parsing() {
        let long = "x".repeat(1_000);
        let reported = format!(
            "mutation {{ {} }}",
            (0..900)
                .map(|n| format!("{long}{n}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(limit_of(&reported), Some(Limit::DocumentBytes));
        let roomy = QueryLimits {
            max_document_bytes: 1 << 20,
            ..QueryLimits::default()
        };
        assert_eq!(
            roomy
                .admit(&mut Request::new(reported))
                .err()
                .and_then(|r| r.limit()),
            Some(Limit::NameLength)
        );
        let longest = format!("{{ {} }}", "y".repeat(128));
        assert!(admit(&longest).is_ok());
        let over = format!("{{ {} }}", "y".repeat(129));
        assert_eq!(limit_of(&over), Some(Limit::NameLength));
        // Numbers and strings are not names.
        let values = format!("{{ task(id: \"{long}\") {{ id }} }}");
        assert!(admit(&values).is_ok());
        let many = format!("{{ {} }}", "a ".repeat(3_001));
        assert_eq!(limit_of(&many), Some(Limit::Names));
    }

    /// Depth hidden in fragments: each fragment is shallow, the spread chain is not.
    #[test]
    fn depth_through_fragments_is_capped() {
        let mut query = String::from("{ ...F0 }\n");
        for level in 0..15 {
            query.push_str(&format!(
                "fragment F{level} on Query {{ a {{ ...F{} }} }}\n",
                level + 1
            ));
        }
        query.push_str("fragment F15 on Query { b }");
        assert_eq!(limit_of(&query), Some(Limit::Depth));
    }

    #[test]
    fn fragment_cycles_and_long_chains_are_handled_without_recursion() {
        assert!(matches!(
            admit("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"),
            Err(Refusal::Malformed(_))
        ));
        // A chain of 3,000 fragments, each one spread once: linear, and on a
        // small stack it neither overflows nor is mistaken for a bomb.
        let limits = QueryLimits {
            max_tokens: 1_000_000,
            max_document_bytes: 1 << 20,
            max_selections: 10_000,
            max_expanded_selections: 10_000,
            max_depth: 10_000,
            max_names: 100_000,
            ..QueryLimits::default()
        };
        let mut chain = String::from("{ ...C0 }\n");
        for n in 0..3000 {
            chain.push_str(&format!("fragment C{n} on Query {{ ...C{} }}\n", n + 1));
        }
        chain.push_str("fragment C3000 on Query { __typename }");
        let result = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || limits.admit(&mut Request::new(chain)))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(
            result,
            Ok(Admitted {
                is_mutation: false,
                open_to_anyone: false,
                is_subscription: false
            })
        );
    }

    #[test]
    fn strings_comments_and_block_strings_hide_no_brackets() {
        let query = format!(
            "# {open}\n{{ task(id: \"{open}\\\"{open}\") {{ id }} other: task(id: \"\"\"{open} \\\"\"\" {open}\"\"\") {{ id }} }}",
            open = "[".repeat(5000)
        );
        assert_eq!(
            admit(&query),
            Ok(Admitted {
                is_mutation: false,
                open_to_anyone: false,
                is_subscription: false
            })
        );
    }

    #[test]
    fn deep_json_variables_are_refused() {
        let mut value = serde_json::json!("x");
        for _ in 0..20 {
            value = serde_json::json!([value]);
        }
        let mut request = Request::new("query($v: ID) { __typename }").variables(
            async_graphql::Variables::from_json(serde_json::json!({ "v": value })),
        );
        assert_eq!(
            QueryLimits::default()
                .admit(&mut request)
                .err()
                .and_then(|r| r.limit()),
            Some(Limit::ValueDepth)
        );
    }

    proptest::proptest! {
        /// Whatever the text, admission answers (no panic, no overflow on a
        /// 512 KiB stack), and what it admits the parser takes on that stack too.
        #[test]
        fn any_text_is_admitted_or_refused_on_a_small_stack(
            text in "[\\[\\]{}()\"#a-z:$@!.,= \n]{0,4000}"
        ) {
            let outcome = std::thread::Builder::new()
                .stack_size(512 * 1024)
                .spawn(move || QueryLimits::default().admit(&mut Request::new(text)).is_ok())
                .unwrap()
                .join();
            proptest::prop_assert!(outcome.is_ok());
        }
    }
}
