//! `edict lsp`: a language server over stdio.
//!
//! Built on rust-analyzer's `lsp-server` (a synchronous JSON-RPC loop over
//! channels, no async runtime) and `lsp-types`. Every request and
//! notification is handled inside `catch_unwind`, so a policy in mid-edit that
//! trips a bug costs one answer, not the server.

mod analysis;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;

use clap::Args;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest, Request as _,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, DiagnosticRelatedInformation,
    DiagnosticSeverity, DocumentSymbol, Documentation, Hover, HoverContents,
    HoverProviderCapability, Location, MarkupContent, MarkupKind, NumberOrString, OneOf, Position,
    PublishDiagnosticsParams, Range, SaveOptions, ServerCapabilities, SymbolKind,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Uri,
};
use serde_json::Value;

use self::analysis::{Analysis, Member, KEYWORDS};
use super::{EXIT_INVALID, EXIT_OK};
use crate::builtins;
use crate::syntax::ast;

/// Arguments of `edict lsp` (none: it speaks JSON-RPC on stdin and stdout).
#[derive(Debug, Args)]
pub struct LspArgs {}

/// Exit code when the client exits without asking to shut down first (the LSP specification's 1).
const EXIT_WITHOUT_SHUTDOWN: u8 = 1;

/// Serves until the client asks to exit: 0 after a proper shutdown, 1 without
/// one, 2 when the client never initializes.
pub fn run(_args: LspArgs) -> u8 {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = match serde_json::to_value(capabilities()) {
        Ok(c) => c,
        Err(_) => return EXIT_INVALID,
    };
    if let Err(e) = connection.initialize(capabilities) {
        err_line!("error: {e}");
        return EXIT_INVALID;
    }
    let mut server = Server {
        connection: &connection,
        open: HashMap::new(),
        sets: HashMap::new(),
        cache: RefCell::new(None),
    };
    let clean = server.serve();
    drop(connection);
    let _ = io_threads.join();
    if clean {
        EXIT_OK
    } else {
        EXIT_WITHOUT_SHUTDOWN
    }
}

/// What the server offers.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(true),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// The server's state: open buffers and the policy sets they belong to.
struct Server<'c> {
    connection: &'c Connection,
    /// Open documents' text, by URI.
    open: HashMap<String, String>,
    /// The set's files on disk, by the URI of an open document, refreshed on open and save.
    sets: HashMap<String, Vec<PathBuf>>,
    /// The last analysis and the document it was made for, until the next notification.
    cache: RefCell<Option<(String, Rc<Analysis>)>>,
}

impl Server<'_> {
    /// The main loop; true when it ended with shutdown then exit.
    fn serve(&mut self) -> bool {
        let mut shut_down = false;
        while let Ok(message) = self.connection.receiver.recv() {
            match message {
                Message::Request(req) => {
                    if req.method == "shutdown" {
                        shut_down = true;
                        self.send(Response::new_ok(req.id, Value::Null).into());
                        continue;
                    }
                    let id = req.id.clone();
                    let response = match catch_unwind(AssertUnwindSafe(|| self.request(req))) {
                        Ok(r) => r,
                        Err(_) => Response::new_err(
                            id,
                            ErrorCode::InternalError as i32,
                            "internal error while answering; see the server's log".into(),
                        ),
                    };
                    self.send(response.into());
                }
                Message::Notification(n) => {
                    if n.method == "exit" {
                        return shut_down;
                    }
                    self.cache.replace(None);
                    let uri = n
                        .params
                        .pointer("/textDocument/uri")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    if catch_unwind(AssertUnwindSafe(|| self.notification(n))).is_err() {
                        if let Some(uri) = uri {
                            self.internal_error(&uri);
                        }
                    }
                }
                Message::Response(_) => {}
            }
        }
        false
    }

    fn send(&self, message: Message) {
        let _ = self.connection.sender.send(message);
    }

    fn notification(&mut self, n: Notification) {
        let doc = |p: &Value, key: &str| p.pointer(key).and_then(Value::as_str).map(str::to_string);
        let uri = doc(&n.params, "/textDocument/uri").unwrap_or_default();
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let text = doc(&n.params, "/textDocument/text").unwrap_or_default();
                self.open.insert(uri.clone(), text);
                self.refresh_set(&uri);
                self.publish(&uri, None);
            }
            DidChangeTextDocument::METHOD => {
                // Full sync: the last change holds the whole text.
                let text = n
                    .params
                    .get("contentChanges")
                    .and_then(Value::as_array)
                    .and_then(|c| c.last())
                    .and_then(|c| c.get("text"))
                    .and_then(Value::as_str);
                if let Some(text) = text {
                    self.open.insert(uri.clone(), text.to_string());
                }
                self.publish(&uri, None);
            }
            DidSaveTextDocument::METHOD => {
                if let Some(text) = doc(&n.params, "/text") {
                    self.open.insert(uri.clone(), text);
                }
                self.refresh_set(&uri);
                self.publish(&uri, None);
            }
            #[cfg(test)]
            "edict/panic" => panic!("a bug, on purpose"),
            DidCloseTextDocument::METHOD => {
                self.open.remove(&uri);
                self.publish(&uri, Some(&uri));
                self.sets.remove(&uri);
                self.send_diagnostics(&uri, Vec::new());
            }
            _ => {}
        }
    }

    /// Re-reads which files make up the set of an open document.
    fn refresh_set(&mut self, uri: &str) {
        let files = analysis::uri_to_path(uri)
            .map(|p| analysis::set_files(&p))
            .unwrap_or_default();
        self.sets.insert(uri.to_string(), files);
    }

    /// The members of the set `uri` belongs to: open buffers over files on disk.
    fn members(&self, uri: &str) -> Vec<Member> {
        let mut members = Vec::new();
        let mut seen = HashSet::new();
        let dir = analysis::uri_to_path(uri).and_then(|p| p.parent().map(Path::to_path_buf));
        for path in self.sets.get(uri).into_iter().flatten() {
            let key = analysis::path_to_uri(path);
            let text = match self.open_text(&key, path) {
                Some(t) => t,
                None => match std::fs::read_to_string(path) {
                    Ok(t) => t,
                    Err(_) => continue,
                },
            };
            seen.insert(key.clone());
            members.push(Member { uri: key, text });
        }
        // Open buffers in the same tree that are not on disk (yet), and the document itself.
        let mut extra: Vec<(&String, &String)> = self
            .open
            .iter()
            .filter(|(u, _)| !seen.contains(*u) && !self.is_open_alias(u, &seen))
            .filter(|(u, _)| {
                *u == uri
                    || match (&dir, analysis::uri_to_path(u)) {
                        (Some(d), Some(p)) => p.starts_with(d),
                        _ => false,
                    }
            })
            .collect();
        extra.sort();
        for (u, t) in extra {
            members.push(Member {
                uri: u.clone(),
                text: t.clone(),
            });
        }
        members
    }

    /// Whether an open URI spells a path already in the set another way.
    fn is_open_alias(&self, uri: &str, seen: &HashSet<String>) -> bool {
        analysis::uri_to_path(uri).is_some_and(|p| seen.contains(&analysis::path_to_uri(&p)))
    }

    /// The open buffer for a file, whichever way the client spelled its URI.
    fn open_text(&self, key: &str, path: &Path) -> Option<String> {
        if let Some(t) = self.open.get(key) {
            return Some(t.clone());
        }
        self.open
            .iter()
            .find(|(u, _)| analysis::uri_to_path(u).as_deref() == Some(path))
            .map(|(_, t)| t.clone())
    }

    /// Checks the set `uri` belongs to and publishes diagnostics for each of its
    /// files (an empty list where there are none), except `skip`.
    fn publish(&self, uri: &str, skip: Option<&str>) {
        let analysis = self.analyse(uri);
        for (i, member) in analysis.members.iter().enumerate() {
            let client_uri = self.client_uri(&member.uri);
            if Some(client_uri.as_str()) == skip {
                continue;
            }
            let diagnostics = analysis.diagnostics[i]
                .iter()
                .map(|p| to_lsp_diagnostic(&analysis, i, p))
                .collect();
            self.send_diagnostics(&client_uri, diagnostics);
        }
    }

    /// The analysis of the set `uri` belongs to, made once per state of the buffers.
    fn analyse(&self, uri: &str) -> Rc<Analysis> {
        if let Some((cached_uri, analysis)) = &*self.cache.borrow() {
            if cached_uri == uri {
                return analysis.clone();
            }
        }
        let analysis = Rc::new(Analysis::new(self.members(uri)));
        self.cache
            .replace(Some((uri.to_string(), analysis.clone())));
        analysis
    }

    /// The URI the client uses for a member: its open document's, if it is open.
    fn client_uri(&self, key: &str) -> String {
        if self.open.contains_key(key) {
            return key.to_string();
        }
        let path = analysis::uri_to_path(key);
        self.open
            .keys()
            .find(|u| path.is_some() && analysis::uri_to_path(u) == path)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    fn send_diagnostics(&self, uri: &str, diagnostics: Vec<lsp_types::Diagnostic>) {
        let Ok(uri) = Uri::from_str(uri) else { return };
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        if let Ok(params) = serde_json::to_value(params) {
            self.send(Message::Notification(Notification::new(
                PublishDiagnostics::METHOD.into(),
                params,
            )));
        }
    }

    /// Tells the client something went wrong in the server itself.
    fn internal_error(&self, uri: &str) {
        let d = lsp_types::Diagnostic {
            range: Range::default(),
            severity: Some(DiagnosticSeverity::ERROR),
            source: Some("edict".into()),
            message: "edict lsp hit an internal error on this file; see the server's log".into(),
            ..lsp_types::Diagnostic::default()
        };
        self.send_diagnostics(uri, vec![d]);
    }

    /// One edit replacing the whole document with its canonical layout; no
    /// edits when the text does not parse (its diagnostics already say why).
    fn formatting(&self, uri: &str) -> Value {
        let Some(text) = self.open.get(uri) else {
            return Value::Null;
        };
        match crate::syntax::format::format(uri, text) {
            Ok(formatted) if formatted != *text => {
                let lines = text.split('\n').count().saturating_sub(1) as u32;
                let last = text
                    .rsplit('\n')
                    .next()
                    .map_or(0, |l| l.encode_utf16().count()) as u32;
                let edit = lsp_types::TextEdit {
                    range: Range::new(Position::new(0, 0), Position::new(lines, last)),
                    new_text: formatted,
                };
                serde_json::to_value(vec![edit]).unwrap_or(Value::Null)
            }
            Ok(_) => Value::Array(Vec::new()),
            Err(_) => Value::Null,
        }
    }

    fn request(&mut self, req: Request) -> Response {
        let uri = req
            .params
            .pointer("/textDocument/uri")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let line = req.params.pointer("/position/line").and_then(Value::as_u64);
        let character = req
            .params
            .pointer("/position/character")
            .and_then(Value::as_u64);
        let result = match req.method.as_str() {
            HoverRequest::METHOD => self.at(&uri, line, character, hover),
            GotoDefinition::METHOD => {
                self.at(&uri, line, character, |a, m, o| definition(self, a, m, o))
            }
            DocumentSymbolRequest::METHOD => {
                let analysis = self.analyse(&uri);
                let symbols = analysis
                    .member(&uri)
                    .map(|m| symbols(&analysis, m))
                    .unwrap_or_default();
                serde_json::to_value(symbols).unwrap_or(Value::Null)
            }
            Completion::METHOD => {
                let analysis = self.analyse(&uri);
                let after_dot = match (analysis.member(&uri), line, character) {
                    (Some(m), Some(l), Some(c)) => {
                        let text = &analysis.members[m].text;
                        let o = analysis::offset(text, l as u32, c as u32);
                        let word_start = analysis::word_at(text, o).map_or(o, |(s, _)| s);
                        text[..word_start].ends_with('.')
                    }
                    _ => false,
                };
                serde_json::to_value(completions(&analysis, after_dot)).unwrap_or(Value::Null)
            }
            "textDocument/formatting" => self.formatting(&uri),
            #[cfg(test)]
            "edict/panic" => panic!("a bug, on purpose"),
            _ => {
                return Response::new_err(
                    req.id,
                    ErrorCode::MethodNotFound as i32,
                    format!("`{}` is not supported", req.method),
                )
            }
        };
        Response::new_ok(req.id, result)
    }

    /// Answers a request about a position with `f`, or null.
    fn at(
        &self,
        uri: &str,
        line: Option<u64>,
        character: Option<u64>,
        f: impl Fn(&Analysis, usize, usize) -> Option<Value>,
    ) -> Value {
        let analysis = self.analyse(uri);
        let (Some(member), Some(line), Some(character)) = (analysis.member(uri), line, character)
        else {
            return Value::Null;
        };
        let offset = analysis::offset(
            &analysis.members[member].text,
            line as u32,
            character as u32,
        );
        f(&analysis, member, offset).unwrap_or(Value::Null)
    }
}

fn range(text: &str, start: usize, end: usize) -> Range {
    let (l1, c1) = analysis::position(text, start);
    let (l2, c2) = analysis::position(text, end);
    Range::new(Position::new(l1, c1), Position::new(l2, c2))
}

fn to_lsp_diagnostic(a: &Analysis, member: usize, p: &analysis::Placed) -> lsp_types::Diagnostic {
    let d = &p.diagnostic;
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = p
        .related
        .iter()
        .filter_map(|(m, s, e, label)| {
            let uri = Uri::from_str(&a.members[*m].uri).ok()?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri, range(&a.members[*m].text, *s, *e)),
                message: label.clone(),
            })
        })
        .collect();
    lsp_types::Diagnostic {
        range: range(&a.members[member].text, p.start, p.end),
        severity: Some(if analysis::lsp_severity(d.severity) == 1 {
            DiagnosticSeverity::ERROR
        } else {
            DiagnosticSeverity::WARNING
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("edict".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}

fn hover(a: &Analysis, member: usize, offset: usize) -> Option<Value> {
    let (start, end, markdown) = a.hover(member, offset)?;
    let hover = Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(range(&a.members[member].text, start, end)),
    };
    serde_json::to_value(hover).ok()
}

fn definition(server: &Server<'_>, a: &Analysis, member: usize, offset: usize) -> Option<Value> {
    let (m, start, end) = a.definition(member, offset)?;
    let uri = Uri::from_str(&server.client_uri(&a.members[m].uri)).ok()?;
    serde_json::to_value(Location::new(uri, range(&a.members[m].text, start, end))).ok()
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written out
fn symbols(a: &Analysis, member: usize) -> Vec<DocumentSymbol> {
    let text = &a.members[member].text;
    a.decls
        .iter()
        .filter(|d| d.member == member)
        .map(|d| {
            let span = d.decl.span();
            let (name, kind, sel) = match &d.decl {
                ast::Decl::Use(u) => (
                    format!("use {}", u.path.name),
                    SymbolKind::MODULE,
                    u.path.span,
                ),
                ast::Decl::Facts(f) => ("facts".to_string(), SymbolKind::NAMESPACE, f.span),
                ast::Decl::Test(t) => (format!("test \"{}\"", t.name), SymbolKind::METHOD, t.span),
                other => {
                    let kind = match other {
                        ast::Decl::Const(_) => SymbolKind::CONSTANT,
                        ast::Decl::Fn(_) => SymbolKind::FUNCTION,
                        ast::Decl::Type(_) => SymbolKind::STRUCT,
                        ast::Decl::Waiver(_) => SymbolKind::EVENT,
                        _ => SymbolKind::CLASS,
                    };
                    match other.name() {
                        Some(n) => (n.name.to_string(), kind, n.span),
                        None => ("?".to_string(), kind, span),
                    }
                }
            };
            let detail = match &d.decl {
                ast::Decl::Rule(_) => Some("rule".to_string()),
                ast::Decl::Waiver(_) => Some("waiver".to_string()),
                _ => None,
            };
            DocumentSymbol {
                name,
                detail,
                kind,
                tags: None,
                deprecated: None,
                range: range(text, span.start as usize, span.end as usize),
                selection_range: range(text, sel.start as usize, sel.end as usize),
                children: None,
            }
        })
        .collect()
}

fn completions(a: &Analysis, after_dot: bool) -> Vec<CompletionItem> {
    let mut items = Vec::new();
    let mut fields = HashSet::new();
    for (_, f) in a.fields() {
        if fields.insert(f.name.name.clone()) {
            items.push(CompletionItem {
                label: f.name.name.to_string(),
                kind: Some(CompletionItemKind::FIELD),
                ..CompletionItem::default()
            });
        }
    }
    if after_dot {
        return items;
    }
    for b in builtins::all() {
        items.push(CompletionItem {
            label: b.name.to_string(),
            kind: Some(CompletionItemKind::FUNCTION),
            detail: Some(b.signature.to_string()),
            documentation: Some(Documentation::String(b.doc.to_string())),
            ..CompletionItem::default()
        });
    }
    for kw in KEYWORDS {
        items.push(CompletionItem {
            label: kw.to_string(),
            kind: Some(CompletionItemKind::KEYWORD),
            ..CompletionItem::default()
        });
    }
    for d in &a.decls {
        let Some(name) = d.decl.name() else { continue };
        let kind = match d.decl {
            ast::Decl::Const(_) => CompletionItemKind::CONSTANT,
            ast::Decl::Fn(_) => CompletionItemKind::FUNCTION,
            ast::Decl::Type(_) => CompletionItemKind::STRUCT,
            _ => CompletionItemKind::REFERENCE,
        };
        items.push(CompletionItem {
            label: name.name.to_string(),
            kind: Some(kind),
            ..CompletionItem::default()
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_server::RequestId;

    #[test]
    fn a_panic_costs_one_answer_not_the_server() {
        let (server_side, client) = Connection::memory();
        let worker = std::thread::spawn(move || {
            let mut server = Server {
                connection: &server_side,
                open: HashMap::new(),
                sets: HashMap::new(),
                cache: RefCell::new(None),
            };
            server.serve()
        });
        let send = |m: Message| client.sender.send(m).unwrap();
        let next = || {
            client
                .receiver
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap()
        };
        let uri = "untitled:one";
        send(Message::Notification(Notification::new(
            "edict/panic".into(),
            serde_json::json!({"textDocument": {"uri": uri}}),
        )));
        let Message::Notification(n) = next() else {
            panic!("expected diagnostics")
        };
        assert_eq!(n.params["uri"], uri);
        assert!(n.params["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("internal error"));
        send(Message::Request(Request::new(
            RequestId::from(1),
            "edict/panic".into(),
            Value::Null,
        )));
        let Message::Response(r) = next() else {
            panic!("expected a response")
        };
        assert_eq!(
            r.response_result.unwrap_err().code,
            ErrorCode::InternalError as i32
        );
        send(Message::Request(Request::new(
            RequestId::from(2),
            "shutdown".into(),
            Value::Null,
        )));
        let Message::Response(r) = next() else {
            panic!("expected a response")
        };
        assert_eq!(r.id, RequestId::from(2));
        send(Message::Notification(Notification::new(
            "exit".into(),
            Value::Null,
        )));
        assert!(worker.join().unwrap(), "a clean shutdown");
    }
}
