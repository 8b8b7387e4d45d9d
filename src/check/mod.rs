//! Checking: parse every file, resolve every name, report every mistake of a
//! policy set in one run, and produce the program the evaluator runs.

mod cycles;
mod fold;
mod resolve;
mod rules;
pub mod stream;
pub mod types;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use indexmap::IndexMap;

pub use resolve::Global;
use resolve::{Resolver, Scope};

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::eval::value::Str;
use crate::ir::{ConstDef, FnDef, Program};
use crate::source::{SourceId, SourceMap, Span};
use crate::stdlib;
use crate::syntax::{self, ast};

/// Names declared at the top level of the policy set and its modules.
#[derive(Default)]
pub struct Globals {
    /// Every top-level name (qualified for modules) with where it is declared.
    pub names: IndexMap<Str, (Global, Span)>,
    /// Modules brought into scope with `use`.
    pub modules: HashSet<Str>,
    /// The modules each file brings into scope with `use`: a `use` applies to
    /// its own file, so a module name never shadows a facts key elsewhere.
    pub file_uses: HashMap<SourceId, HashSet<Str>>,
    /// Each function's number of parameters, by id.
    pub fn_arity: Vec<usize>,
    /// The top-level keys a `facts` schema declares, if there is one.
    pub schema_keys: Option<Vec<Str>>,
}

impl Globals {
    /// Names usable as values: constants.
    pub fn value_names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .filter(|(_, (g, _))| matches!(g, Global::Const(_)))
            .map(|(n, _)| &**n)
    }

    /// Names of user functions.
    pub fn fn_names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .filter(|(_, (g, _))| matches!(g, Global::Fn(_)))
            .map(|(n, _)| &**n)
    }
}

/// A policy set that does not check: its sources and every diagnostic.
#[derive(Debug)]
pub struct Failure {
    /// The sources the diagnostics point into.
    pub sources: SourceMap,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// A parsed file and the module it belongs to (`None`: the user's policy set).
struct ParsedFile {
    module: Option<Str>,
    file: ast::File,
}

/// Checks a policy set and compiles it. On success, also returns the warnings.
pub fn compile(mut sources: SourceMap) -> Result<(Program, Vec<Diagnostic>), Failure> {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    let user_ids: Vec<SourceId> = sources.iter().map(|(id, _)| id).collect();
    for parsed in syntax::parse_files(&sources, &user_ids) {
        match parsed {
            Ok(file) => files.push(ParsedFile { module: None, file }),
            Err(mut errs) => diagnostics.append(&mut errs),
        }
    }
    let mut globals = Globals::default();
    load_modules(&mut sources, &mut files, &mut globals, &mut diagnostics);
    declare(&files, &mut globals, &mut diagnostics);

    let mut facts: IndexMap<Str, ()> = IndexMap::new();
    let mut program = Program::default();
    for pf in &files {
        for decl in &pf.file.decls {
            let mut resolver = Resolver {
                globals: &globals,
                module: pf.module.clone(),
                scope: Scope::default(),
                facts: &mut facts,
                diagnostics: &mut diagnostics,
            };
            match decl {
                ast::Decl::Const(c) => program.consts.push(ConstDef {
                    name: qualify(&pf.module, &c.name.name),
                    value: resolver.expr(&c.value),
                    doc: c.doc.clone(),
                    span: c.span,
                }),
                ast::Decl::Fn(f) => {
                    for p in &f.params {
                        resolver.scope.bind(&p.name);
                    }
                    let body = resolver.expr(&f.body);
                    program.fns.push(FnDef {
                        name: qualify(&pf.module, &f.name.name),
                        arity: f.params.len(),
                        params: f.params.iter().map(|p| p.name.clone()).collect(),
                        frame_size: resolver.scope.max_slots,
                        body,
                        doc: f.doc.clone(),
                        span: f.span,
                    });
                }
                _ => {}
            }
        }
    }
    let rule_decls: Vec<&ast::RuleDecl> = user_decls(&files)
        .filter_map(|d| match d {
            ast::Decl::Rule(r) => Some(r),
            _ => None,
        })
        .collect();
    let waiver_decls: Vec<&ast::WaiverDecl> = user_decls(&files)
        .filter_map(|d| match d {
            ast::Decl::Waiver(w) => Some(w),
            _ => None,
        })
        .collect();
    let mut pending_meta = Vec::new();
    for rule in &rule_decls {
        let resolver = Resolver {
            globals: &globals,
            module: None,
            scope: Scope::default(),
            facts: &mut facts,
            diagnostics: &mut diagnostics,
        };
        let (def, meta) = rules::compile_rule(resolver, rule, &waiver_decls);
        program.rules.push(def);
        pending_meta.push(meta);
    }
    for waiver in &waiver_decls {
        program.waivers.push(rules::waiver_def(waiver));
        rules::check_waiver_targets(waiver, &rule_decls, &mut diagnostics);
    }
    for decl in user_decls(&files) {
        if let ast::Decl::Test(t) = decl {
            rules::check_test(t, &rule_decls, &mut diagnostics);
            program.tests.push(t.clone());
        }
    }
    cycles::check(&program, &mut diagnostics);
    program.facts = facts.into_keys().collect();
    let user: Vec<&ast::Decl> = user_decls(&files).collect();
    let schema = crate::schema::build(user.iter().copied(), &mut diagnostics);
    if let Some(schema) = &schema {
        types::check(&program, schema, &mut diagnostics);
    }
    program.schema = schema.map(std::sync::Arc::new);
    program.sources = sources;

    rules::finish_meta(&mut program, pending_meta, &mut diagnostics);
    diagnostics.sort_by_key(|d| (d.span.source, d.span.start, d.code));
    diagnostics.dedup();
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Failure {
            sources: std::mem::take(&mut program.sources),
            diagnostics,
        });
    }
    fold::fold_program(&mut program);
    Ok((program, diagnostics))
}

fn user_decls(files: &[ParsedFile]) -> impl Iterator<Item = &ast::Decl> {
    files
        .iter()
        .filter(|f| f.module.is_none())
        .flat_map(|f| f.file.decls.iter())
}

fn qualify(module: &Option<Str>, name: &Str) -> Str {
    match module {
        Some(m) => Arc::from(format!("{m}.{name}")),
        None => name.clone(),
    }
}

/// Parses every `use`d standard module, and the modules those use.
fn load_modules(
    sources: &mut SourceMap,
    files: &mut Vec<ParsedFile>,
    globals: &mut Globals,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut next = 0;
    while next < files.len() {
        let uses: Vec<ast::UseDecl> = files[next]
            .file
            .decls
            .iter()
            .filter_map(|d| match d {
                ast::Decl::Use(u) => Some(u.clone()),
                _ => None,
            })
            .collect();
        next += 1;
        for u in uses {
            let path = &*u.path.name;
            let name = path.strip_prefix("std.").unwrap_or("");
            let Some(text) = stdlib::module(name) else {
                let known = stdlib::MODULES.iter().map(|(n, _)| *n);
                let help = did_you_mean(name, known).map(|m| format!("did you mean `std.{m}`?"));
                let listed = stdlib::MODULES
                    .iter()
                    .map(|(n, _)| format!("std.{n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                diagnostics.push(
                    Diagnostic::error("E0116", u.path.span, format!("unknown module `{path}`"))
                        .with_label("not a standard module")
                        .with_help(help.unwrap_or(format!("the standard modules are {listed}"))),
                );
                continue;
            };
            globals
                .file_uses
                .entry(u.span.source)
                .or_default()
                .insert(Arc::from(name));
            if globals.modules.insert(Arc::from(name)) {
                let id = sources.add(format!("<std/{name}>"), text);
                match syntax::parse(sources, id) {
                    Ok(file) => files.push(ParsedFile {
                        module: Some(Arc::from(name)),
                        file,
                    }),
                    Err(mut errs) => diagnostics.append(&mut errs),
                }
            }
        }
    }
}

/// Registers every top-level name; a name declared twice is an error showing both.
fn declare(files: &[ParsedFile], globals: &mut Globals, diagnostics: &mut Vec<Diagnostic>) {
    let (mut consts, mut fns, mut rules, mut waivers) = (0, 0, 0, 0);
    let mut schema: Option<Vec<Str>> = None;
    for pf in files {
        for decl in &pf.file.decls {
            let global = match decl {
                ast::Decl::Const(_) => {
                    consts += 1;
                    Global::Const(consts - 1)
                }
                ast::Decl::Fn(f) => {
                    fns += 1;
                    globals.fn_arity.push(f.params.len());
                    Global::Fn(fns - 1)
                }
                ast::Decl::Rule(_) if pf.module.is_none() => {
                    rules += 1;
                    Global::Rule(rules - 1)
                }
                ast::Decl::Waiver(_) if pf.module.is_none() => {
                    waivers += 1;
                    Global::Waiver(waivers - 1)
                }
                ast::Decl::Type(_) => Global::Type,
                ast::Decl::Facts(f) => {
                    schema
                        .get_or_insert_with(Vec::new)
                        .extend(f.fields.iter().map(|field| field.name.name.clone()));
                    continue;
                }
                _ => continue,
            };
            let Some(ident) = decl.name() else { continue };
            let name = qualify(&pf.module, &ident.name);
            if let Some((_, first)) = globals.names.get(&name) {
                diagnostics.push(
                    Diagnostic::error("E0100", ident.span, format!("`{name}` is declared twice"))
                        .with_label("declared again here")
                        .with_related(*first, format!("`{name}` is first declared here"))
                        .with_help("top-level names are shared by every file of the policy set; rename one"),
                );
                continue;
            }
            globals.names.insert(name, (global, ident.span));
        }
    }
    globals.schema_keys = schema;
}
