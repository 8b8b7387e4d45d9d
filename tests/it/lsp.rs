//! `edict lsp` as a process: JSON-RPC over stdio, hostile input, and Neovim's client.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

/// How long any one answer may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// A running `edict lsp` and the messages it has sent.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_edict"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start edict lsp");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value: Value = serde_json::from_slice(&body).expect("a JSON message");
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut server = Server {
            child,
            stdin,
            incoming,
            next_id: 0,
        };
        let init = server.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        let sync = &init["result"]["capabilities"]["textDocumentSync"];
        assert_eq!(sync["save"]["includeText"], true, "{init}");
        server.notify("initialized", json!({}));
        server
    }

    fn write(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.write(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response (result or error).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.write(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(|m| m["id"] == id && m.get("method").is_none())
            .unwrap_or_else(|| panic!("no answer to `{method}` within {PATIENCE:?}"))
    }

    fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + PATIENCE;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.incoming.recv_timeout(left) {
                Ok(m) if wanted(&m) => return Some(m),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let m = self
            .wait_for(|m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
            })
            .unwrap_or_else(|| panic!("no diagnostics for {uri}"));
        m["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("diagnostics are not a list: {m}"))
    }

    /// Shuts down properly and returns the exit code.
    fn shutdown(mut self) -> Option<i32> {
        let answer = self.request("shutdown", Value::Null);
        assert!(answer.get("error").is_none(), "{answer}");
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("edict lsp did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri_of(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

fn open(server: &mut Server, uri: &str, text: &str) {
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "edict", "version": 1, "text": text}}),
    );
}

fn change(server: &mut Server, uri: &str, version: i64, text: &str) {
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    );
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

#[test]
fn a_session_diagnoses_fixes_hovers_defines_and_exits_cleanly() {
    let dir = TempDir::new("lsp-session");
    let limits = dir.write(
        "limits.edict",
        "/// How many days a fix may take.\nconst LIMIT = 30\n",
    );
    let broken = "facts { fixes: [Fix] }\ntype Fix { days: int }\n\
                  rule quick {\n  for f in fixes\n  require f.days = LIMIT\n}\n";
    let policy = dir.write("policy.edict", broken);
    let uri = uri_of(&policy);
    let mut server = Server::start();
    open(&mut server, &uri, broken);
    let diags = server.diagnostics(&uri);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "E0001");
    assert_eq!(diags[0]["severity"], 1);
    assert_eq!(
        diags[0]["range"],
        json!({"start": {"line": 4, "character": 17}, "end": {"line": 4, "character": 18}})
    );

    let fixed = broken.replace("= LIMIT", "<= LIMIT");
    change(&mut server, &uri, 2, &fixed);
    assert_eq!(server.diagnostics(&uri), Vec::<Value>::new());

    let hover = server.request("textDocument/hover", at(&uri, 4, 22));
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        text.contains("const LIMIT") && text.contains("How many days"),
        "{hover}"
    );
    let definition = server.request("textDocument/definition", at(&uri, 4, 22));
    assert_eq!(definition["result"]["uri"], uri_of(&limits));
    assert_eq!(
        definition["result"]["range"],
        json!({"start": {"line": 1, "character": 6}, "end": {"line": 1, "character": 11}})
    );
    let symbols = server.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(symbols["result"][2]["name"], "quick");

    // A save carries the text (the server asks for it).
    server.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}, "text": broken}),
    );
    assert_eq!(server.diagnostics(&uri).len(), 1);
    change(&mut server, &uri, 3, &fixed);
    assert_eq!(server.diagnostics(&uri), Vec::<Value>::new());

    // Renaming the constant in the other file breaks this one.
    let limits_uri = uri_of(&limits);
    open(&mut server, &limits_uri, "const MAX = 30\n");
    let diags = server.diagnostics(&uri);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0]["message"].as_str().unwrap().contains("LIMIT"));

    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": limits_uri}}),
    );
    assert_eq!(server.diagnostics(&limits_uri), Vec::<Value>::new());
    assert_eq!(server.shutdown(), Some(0));
}

#[test]
fn exiting_without_shutdown_exits_1() {
    let mut server = Server::start();
    server.notify("exit", Value::Null);
    drop(server.stdin.take());
    let deadline = Instant::now() + PATIENCE;
    let code = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status.code();
        }
        assert!(Instant::now() < deadline, "edict lsp did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(1));
}

#[test]
fn completion_offers_builtins_keywords_and_schema_fields() {
    let dir = TempDir::new("lsp-complete");
    let text = "facts { fixes: [Fix] }\ntype Fix { days: int }\nconst LIMIT = 3\nrule r { for f in fixes require f. }\n";
    let policy = dir.write("policy.edict", text);
    let uri = uri_of(&policy);
    let mut server = Server::start();
    open(&mut server, &uri, text);
    server.diagnostics(&uri);
    let labels = |v: &Value| -> Vec<String> {
        v["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    let after_dot = labels(&server.request("textDocument/completion", at(&uri, 3, 34)));
    assert!(after_dot.contains(&"days".to_string()), "{after_dot:?}");
    assert!(!after_dot.contains(&"len".to_string()), "{after_dot:?}");
    let anywhere = labels(&server.request("textDocument/completion", at(&uri, 3, 9)));
    for want in ["len", "require", "days_between", "LIMIT"] {
        assert!(anywhere.contains(&want.to_string()), "{want}: {anywhere:?}");
    }
    assert_eq!(server.shutdown(), Some(0));
}

/// About 50 texts an editor may send mid-edit.
fn hostile_texts() -> Vec<String> {
    let mut texts = Vec::new();
    for name in [
        "patching.edict",
        "exceptions.edict",
        "training.edict",
        "tests.edict",
    ] {
        let text = std::fs::read_to_string(root().join("examples/hipaa").join(name)).unwrap();
        let chars: Vec<char> = text.chars().collect();
        for k in 1..10 {
            texts.push(chars[..chars.len() * k / 10].iter().collect());
        }
    }
    texts.extend(
        [
            "rule r { require ((((((",
            "}}}} ))) ]]] rule",
            "rule r { require [1, 2 for x in }",
            "const A = \"{\"{\"{",
            "fn f(((",
            "test \"t\" { expect",
            "rule rule rule",
            "waiver w for { from e in",
            "\u{0}\u{1}\u{7f}\u{feff}rule \u{1F600} {}",
            "const X = 9999999999999999999999999999",
        ]
        .map(String::from),
    );
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let pool: Vec<char> = "rule{}()[]\"\\:.,?=<>!-+*/%\n\t azé😀0123456789_forinwherelet"
        .chars()
        .collect();
    for _ in 0..6 {
        let mut s = String::new();
        for _ in 0..200 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push(pool[(seed % pool.len() as u64) as usize]);
        }
        texts.push(s);
    }
    texts
}

#[test]
fn every_request_on_hostile_mid_edit_text_gets_an_answer() {
    let dir = TempDir::new("lsp-hostile");
    for name in ["patching.edict", "exceptions.edict", "training.edict"] {
        let text = std::fs::read_to_string(root().join("examples/hipaa").join(name)).unwrap();
        dir.write(name, &text);
    }
    let path = dir.write("tests.edict", "");
    let uri = uri_of(&path);
    let mut server = Server::start();
    open(&mut server, &uri, "");
    server.diagnostics(&uri);
    let texts = hostile_texts();
    assert!(texts.len() >= 50, "{}", texts.len());
    for (n, text) in texts.iter().enumerate() {
        change(&mut server, &uri, n as i64 + 2, text);
        server.diagnostics(&uri);
        let lines = text.lines().count() as u32;
        for (line, character) in [(0, 0), (lines / 2, 3), (lines, 0), (lines + 5, 99)] {
            for method in [
                "textDocument/hover",
                "textDocument/definition",
                "textDocument/completion",
            ] {
                let answer = server.request(method, at(&uri, line, character));
                assert!(
                    answer.get("result").is_some() || answer.get("error").is_some(),
                    "{method} on text {n}: {answer}"
                );
            }
        }
        let answer = server.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
        assert!(
            answer.get("result").is_some(),
            "symbols on text {n}: {answer}"
        );
    }
    assert_eq!(server.shutdown(), Some(0));
}

#[test]
fn neovim_attaches_and_receives_diagnostics() {
    let nvim = Command::new("nvim").arg("--version").output();
    let required = std::env::var_os("EDICT_REQUIRE_NVIM").is_some();
    if nvim.is_err() {
        assert!(
            !required,
            "EDICT_REQUIRE_NVIM is set but nvim is not installed"
        );
        eprintln!("skipped: nvim is not installed (set EDICT_REQUIRE_NVIM=1 to require it)");
        return;
    }
    let dir = TempDir::new("lsp-nvim");
    let policy = dir.write(
        "policy.edict",
        "rule quick {\n  for f in fixes\n  require f.days = 30\n}\n",
    );
    let out = dir.0.join("diagnostics.json");
    let script = dir.write(
        "test.lua",
        r#"
local client = vim.lsp.start_client({
  name = 'edict',
  cmd = { vim.env.EDICT_BIN, 'lsp' },
  root_dir = vim.env.EDICT_ROOT,
})
vim.lsp.buf_attach_client(0, client)
vim.wait(15000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local found = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(found, { lnum = d.lnum, col = d.col, end_col = d.end_col, code = d.code, message = d.message })
end
local f = io.open(vim.env.EDICT_OUT, 'w')
f:write(vim.fn.json_encode(found))
f:close()
vim.lsp.stop_client(client)
vim.cmd('qa!')
"#,
    );
    let home = dir.0.join("home");
    let mut cmd = Command::new("nvim");
    cmd.args(["--headless", "--clean", "-n", "-i", "NONE", "-c"])
        .arg(format!("luafile {}", script.display()))
        .arg(&policy)
        .env("EDICT_BIN", env!("CARGO_BIN_EXE_edict"))
        .env("EDICT_ROOT", &dir.0)
        .env("EDICT_OUT", &out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for var in [
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    ] {
        cmd.env(var, &home);
    }
    let mut child = cmd.spawn().expect("start nvim");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let written = std::fs::read_to_string(&out).expect("nvim wrote the diagnostics");
    let diags: Value = serde_json::from_str(&written).expect("JSON");
    assert_eq!(
        diags,
        json!([{"lnum": 2, "col": 17, "end_col": 18, "code": "E0001",
                "message": diags[0]["message"]}]),
        "{written}"
    );
    assert!(diags[0]["message"].as_str().unwrap().contains("found `=`"));
}

#[test]
fn formatting_returns_the_canonical_layout_as_one_edit() {
    let dir = TempDir::new("lsp-format");
    let messy =
        "rule r {\nfor p in people\n      require p.trained   else \"{p.id} untrained\"\n}\n";
    let policy = dir.write("policy.edict", messy);
    let uri = format!("file://{}", policy.display());
    let mut server = Server::start();
    open(&mut server, &uri, messy);
    let answer = server.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = answer["result"].as_array().expect("a list of edits");
    assert_eq!(edits.len(), 1, "{answer}");
    let expected = edict::syntax::format::format("policy.edict", messy).expect("formats");
    assert_ne!(expected, messy);
    assert_eq!(edits[0]["newText"], expected.as_str());
    assert_eq!(edits[0]["range"]["end"], json!({"line": 4, "character": 0}));
    // A document that does not parse gets no edits, not a mangled file.
    let broken = "rule r {\n  require (\n";
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": broken}]}),
    );
    let answer = server.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(answer["result"], Value::Null, "{answer}");
    assert_eq!(server.shutdown(), Some(0));
}
