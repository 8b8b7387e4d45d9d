//! pest's parse errors, reworded as diagnostics people can act on.

use pest::error::{ErrorVariant, InputLocation};

use super::Rule;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

/// Converts a pest error into an `E0001` diagnostic naming what was expected.
pub(super) fn syntax_error(
    id: SourceId,
    text: &str,
    error: pest::error::Error<Rule>,
) -> Diagnostic {
    syntax_error_at(id, text, 0, error)
}

/// Like [`syntax_error`], for an error in the part of `text` starting at `base`.
pub(super) fn syntax_error_at(
    id: SourceId,
    text: &str,
    base: usize,
    error: pest::error::Error<Rule>,
) -> Diagnostic {
    let pos = base
        + match error.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
    let found = token_at(text, pos);
    let span = Span::new(id, pos, pos + found.len());
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
            words.sort_unstable();
            words.dedup();
            words
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let found_text = if found.is_empty() {
        "the end of the file".to_string()
    } else {
        format!("`{found}`")
    };
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!("expected {}, found {found_text}", join_words(&expected))
    };
    let help = help_for(&expected, found);
    Diagnostic::error("E0001", span, message)
        .with_label("not expected here")
        .with_help_opt(help)
}

fn help_for(expected: &[&str], found: &str) -> Option<String> {
    if found.is_empty() {
        return Some("a closing `}` or `)` may be missing".into());
    }
    if super::DECLARATION_KEYWORDS.contains(&found) && expected.contains(&"an expression") {
        return Some(format!("the declaration before `{found}` is unfinished"));
    }
    if found == "=" && expected.contains(&"an operator") {
        return Some("compare with `==`; `=` only appears in `let`, `const` and `fn`".into());
    }
    if found == "&&" || found == "||" || found == "!" {
        return Some("write `and`, `or` and `not` as words".into());
    }
    if found.starts_with('\'') {
        return Some("strings use double quotes".into());
    }
    None
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The word, number or single character at `pos`, for "found `…`".
fn token_at(text: &str, pos: usize) -> &str {
    let rest = text.get(pos..).unwrap_or("");
    let word_len: usize = rest
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .map(|(_, c)| c.len_utf8())
        .sum();
    if word_len > 0 {
        return &rest[..word_len];
    }
    let two = rest.get(..2).unwrap_or("");
    if ["==", "!=", "<=", ">=", "&&", "||", "??", "?."].contains(&two) {
        return two;
    }
    rest.chars()
        .next()
        .map(|c| &rest[..c.len_utf8()])
        .unwrap_or("")
}

/// Grammar rules named the way a policy author knows them.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "the end of the file",
        Rule::expr
        | Rule::operation
        | Rule::if_expr
        | Rule::quantifier
        | Rule::quantifier_start => "an expression",
        Rule::ident => "a name",
        Rule::member => "a field name",
        Rule::module_path => "a module name such as `std.time`",
        Rule::string => "a string",
        Rule::number => "a number",
        Rule::date => "a date",
        Rule::datetime => "a datetime",
        Rule::duration => "a duration",
        Rule::type_expr | Rule::type_atom => "a type",
        Rule::field_decl | Rule::field_name => "a field declaration",
        Rule::params => "parameter names",
        Rule::object_entry => "`key: value`",
        Rule::infix_op
        | Rule::infix_start
        | Rule::op_coalesce
        | Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_not_in
        | Rule::op_in
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_rem => "an operator",
        Rule::postfix_op
        | Rule::postfix_start
        | Rule::field
        | Rule::safe_field
        | Rule::index
        | Rule::call => "an operator",
        Rule::use_decl | Rule::kw_use => "`use`",
        Rule::const_decl | Rule::kw_const => "`const`",
        Rule::fn_decl | Rule::kw_fn => "`fn`",
        Rule::facts_decl | Rule::kw_facts | Rule::facts_block | Rule::facts_from_clause => {
            "`facts`"
        }
        Rule::type_decl | Rule::kw_type => "`type`",
        Rule::rule_decl | Rule::kw_rule => "`rule`",
        Rule::waiver_decl | Rule::kw_waiver => "`waiver`",
        Rule::test_decl | Rule::kw_test => "`test`",
        Rule::title_clause
        | Rule::kw_title
        | Rule::severity_clause
        | Rule::kw_severity
        | Rule::level_clause
        | Rule::kw_level
        | Rule::cite_clause
        | Rule::kw_cite
        | Rule::tags_clause
        | Rule::kw_tags
        | Rule::remediation_clause
        | Rule::kw_remediation
        | Rule::effective_clause
        | Rule::kw_effective
        | Rule::let_clause
        | Rule::kw_let
        | Rule::subject_clause
        | Rule::kw_subject
        | Rule::due_clause
        | Rule::kw_due
        | Rule::require_clause
        | Rule::kw_require
        | Rule::from_clause
        | Rule::kw_from
        | Rule::now_clause
        | Rule::kw_now
        | Rule::expect_clause
        | Rule::kw_expect => "the next clause",
        Rule::for_clause | Rule::kw_for | Rule::where_clause | Rule::kw_where => "the next clause",
        Rule::kw_else => "`else`",
        Rule::kw_then => "`then`",
        Rule::kw_in => "an operator",
        Rule::kw_count => "`count`",
        _ => return None,
    })
}
