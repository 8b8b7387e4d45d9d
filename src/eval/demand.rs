//! Which parts of the facts a policy can observe, worked out from the
//! compiled program, so that loading can skip the rest of a large document.
//!
//! A fleet's assets carry fields no rule reads (an operating system, an
//! owner, tags); building them costs allocations and memory for nothing. The
//! analysis follows values from the facts through locals, function calls and
//! `??`: reading a field only demands that field, iterating a list demands
//! its elements, and every other use (printing, comparing, handing it to a
//! builtin, a condition) demands the value whole. Loading then builds only
//! what is demanded, so evaluation sees the same values wherever it looks
//! (see `src/eval/json/` for how loading keeps error messages the same).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::ir::{Expr, ExprKind, Loop, Program, RuleDef, Step, StrPart, WaiverStep};
use crate::syntax::ast::BinOp;

use super::value::{Str, Value};

/// What a policy can observe of one facts value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shape {
    /// All of it: it is printed, compared or handed to a builtin.
    pub whole: bool,
    /// Fields read from it as an object, with what is observed of each.
    pub fields: Vec<(Str, Shape)>,
    /// What is observed of each element when it is iterated as a list.
    pub items: Option<Box<Shape>>,
    /// Whether fields not in `fields` are kept, with nothing observed of
    /// them: the top level, whose keys name facts in messages.
    pub keep_unnamed: bool,
    /// Dense id within its [`Demand`], for per-thread caches; 0 for [`Shape::empty`] and [`Shape::whole`].
    pub(crate) id: usize,
}

impl Shape {
    /// Nothing observed: the shape of a value no rule reaches.
    pub fn empty() -> &'static Shape {
        &EMPTY
    }

    /// Everything observed.
    pub fn whole() -> &'static Shape {
        &WHOLE
    }

    /// The shape of field `name`, if it is read.
    pub fn field(&self, name: &str) -> Option<&Shape> {
        self.fields
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, s)| s)
    }
}

/// What a policy can observe of the facts: the shape of the top-level object.
#[derive(Clone, Debug, PartialEq)]
pub struct Demand {
    root: Shape,
    /// Shapes in the tree, ids `1..=count`.
    count: usize,
    /// Tells demands apart, so a cache keyed by shape ids serves one at a time.
    pub(crate) serial: u64,
}

static EMPTY: Shape = Shape {
    whole: false,
    fields: Vec::new(),
    items: None,
    keep_unnamed: false,
    id: 0,
};

static WHOLE: Shape = Shape {
    whole: true,
    fields: Vec::new(),
    items: None,
    keep_unnamed: false,
    id: 0,
};

static SERIAL: AtomicU64 = AtomicU64::new(1);

/// Analyses past this many expression visits give up and demand everything:
/// a call graph that fans out exponentially must not stall loading.
const MAX_VISITS: usize = 1_000_000;

impl Demand {
    /// What `program` can observe of the facts.
    pub fn of(program: &Program) -> Demand {
        Demand::build(program, None)
    }

    /// What `program` can observe of the facts when the records of key
    /// `streamed` come one a line: each record's `id` too, which names its
    /// outcome lines.
    pub fn streaming(program: &Program, streamed: &str) -> Demand {
        Demand::build(program, Some(streamed))
    }

    fn build(program: &Program, streamed: Option<&str>) -> Demand {
        let mut a = Analysis {
            program,
            nodes: Vec::new(),
            roots: Vec::new(),
            consts: vec![None; program.consts.len()],
            visits: 0,
        };
        a.roots = (0..program.facts.len()).map(|_| a.node()).collect();
        for rule in &program.rules {
            a.rule(rule);
        }
        if let Some(key) = streamed.and_then(|k| program.facts.iter().position(|f| &**f == k)) {
            let records = a.items(a.roots[key]);
            let id = a.field(records, &"id".into());
            a.whole(vec![id]);
        }
        if a.visits > MAX_VISITS {
            return Demand::everything();
        }
        let mut next = 1;
        let fields = program
            .facts
            .iter()
            .zip(&a.roots)
            .map(|(key, &root)| (key.clone(), a.shape(root, &mut next)))
            .collect();
        let root = Shape {
            whole: false,
            fields,
            items: None,
            keep_unnamed: true,
            id: next,
        };
        Demand {
            root,
            count: next,
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Demands every value whole: loading builds the facts as they are.
    pub fn everything() -> Demand {
        Demand {
            root: Shape {
                whole: true,
                id: 1,
                ..Shape::default()
            },
            count: 1,
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The shape of the top-level object.
    pub fn root(&self) -> &Shape {
        &self.root
    }

    /// The shape of top-level key `name`: empty when no rule reads it.
    pub fn key(&self, name: &str) -> &Shape {
        if self.root.whole {
            return &self.root;
        }
        self.root.field(name).unwrap_or(Shape::empty())
    }

    /// The highest shape id in the tree.
    pub(crate) fn shapes(&self) -> usize {
        self.count
    }
}

/// A value during the analysis: one or more places in the facts it may be.
type Places = Vec<usize>;

#[derive(Default)]
struct Node {
    whole: bool,
    fields: Vec<(Str, usize)>,
    items: Option<usize>,
    /// For a list the policy builds (a comprehension's), where its elements
    /// may be in the facts; such a node is no place in the facts itself.
    built: Option<Places>,
}

struct Analysis<'p> {
    program: &'p Program,
    nodes: Vec<Node>,
    /// The node of each top-level key the program reads, by fact id.
    roots: Vec<usize>,
    /// Where each constant's value may be, once analysed.
    consts: Vec<Option<Places>>,
    visits: usize,
}

impl Analysis<'_> {
    fn node(&mut self) -> usize {
        self.nodes.push(Node::default());
        self.nodes.len() - 1
    }

    fn field(&mut self, node: usize, name: &Str) -> usize {
        if let Some(&(_, child)) = self.nodes[node].fields.iter().find(|(k, _)| k == name) {
            return child;
        }
        let child = self.node();
        self.nodes[node].fields.push((name.clone(), child));
        child
    }

    fn items(&mut self, node: usize) -> usize {
        if let Some(child) = self.nodes[node].items {
            return child;
        }
        let child = self.node();
        self.nodes[node].items = Some(child);
        child
    }

    /// A list the policy builds from elements at `elements`.
    fn built_list(&mut self, elements: Places) -> usize {
        let list = self.node();
        self.nodes[list].built = Some(elements);
        list
    }

    fn fields_of(&mut self, places: &Places, name: &Str) -> Places {
        let mut out = Places::new();
        for &n in places {
            match self.nodes[n].built.clone() {
                // A field of a list fails with a message quoting the list.
                Some(elements) => self.whole(elements),
                None => out.push(self.field(n, name)),
            }
        }
        out
    }

    fn items_of(&mut self, places: &Places) -> Places {
        let mut out = Places::new();
        for &n in places {
            match self.nodes[n].built.clone() {
                Some(elements) => out.extend(elements),
                None => out.push(self.items(n)),
            }
        }
        out
    }

    fn whole(&mut self, places: Places) {
        for n in places {
            match self.nodes[n].built.clone() {
                // Built before the list, so this ends.
                Some(elements) => self.whole(elements),
                None => self.nodes[n].whole = true,
            }
        }
    }

    /// Analyses `e` and demands its value whole.
    fn used(&mut self, e: &Expr, env: &mut Env) {
        let places = self.expr(e, env);
        self.whole(places);
    }

    fn bind_loop(&mut self, l: &Loop, env: &mut Env) {
        let source = self.expr(&l.source, env);
        let items = self.items_of(&source);
        env.set(l.slot, items);
        if let Some(filter) = &l.filter {
            self.used(filter, env);
        }
    }

    fn rule(&mut self, rule: &RuleDef) {
        let mut env = Env::default();
        for step in &rule.steps {
            match step {
                Step::For(l) => self.bind_loop(l, &mut env),
                Step::Let { slot, value } => {
                    let places = self.expr(value, &mut env);
                    env.set(*slot, places);
                }
                Step::Where(cond) => self.used(cond, &mut env),
            }
        }
        // A subject without a usable `subject` clause is named by the ids
        // of the records its `for`s bound.
        let id: Str = "id".into();
        for &slot in &rule.for_slots {
            let ids = self.fields_of(&env.get(slot), &id);
            self.whole(ids);
        }
        for e in rule.subject.iter().chain(&rule.due) {
            self.used(e, &mut env);
        }
        for q in &rule.requires {
            self.used(&q.cond, &mut env);
            if let Some(m) = &q.message {
                self.used(m, &mut env);
            }
        }
        for w in &rule.waivers {
            // Register entries are listed, named and dated from their own
            // fields (`id`, `approver`, `expires`), so they are read whole.
            self.bind_loop(&w.from, &mut env);
            let entries = env.get(w.from.slot);
            self.whole(entries);
            for step in &w.steps {
                match step {
                    WaiverStep::Let { slot, value } => {
                        let places = self.expr(value, &mut env);
                        env.set(*slot, places);
                    }
                    WaiverStep::Require(q) => {
                        self.used(&q.cond, &mut env);
                        if let Some(m) = &q.message {
                            self.used(m, &mut env);
                        }
                    }
                }
            }
        }
    }

    /// Where `e`'s value may be in the facts, demanding what its
    /// subexpressions observe on the way.
    fn expr(&mut self, e: &Expr, env: &mut Env) -> Places {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            return Places::new();
        }
        match &e.kind {
            ExprKind::Value(_) | ExprKind::Now | ExprKind::Today => Places::new(),
            ExprKind::Local(slot) => env.get(*slot),
            ExprKind::Fact(id) => self.roots.get(*id).map(|&n| vec![n]).unwrap_or_default(),
            ExprKind::Const(id) => self.constant(*id),
            ExprKind::Str(parts) => {
                for part in parts {
                    if let StrPart::Expr(x) = part {
                        self.used(x, env);
                    }
                }
                Places::new()
            }
            ExprKind::List(items) => {
                for item in items {
                    self.used(item, env);
                }
                Places::new()
            }
            ExprKind::Object(entries) => {
                for (_, v) in entries {
                    self.used(v, env);
                }
                Places::new()
            }
            ExprKind::Field { target, name, .. } => {
                let places = self.expr(target, env);
                self.fields_of(&places, name)
            }
            ExprKind::Index { target, index } => {
                let places = self.expr(target, env);
                match &index.kind {
                    ExprKind::Value(Value::Str(name)) => self.fields_of(&places, name),
                    ExprKind::Value(Value::Int(_)) => self.items_of(&places),
                    _ => {
                        self.used(index, env);
                        self.whole(places);
                        Places::new()
                    }
                }
            }
            ExprKind::Call { func, args } => {
                let mut frame = Env::default();
                for (slot, a) in args.iter().enumerate() {
                    let places = self.expr(a, env);
                    frame.set(slot, places);
                }
                match self.program.fns.get(*func) {
                    Some(def) => self.expr(&def.body, &mut frame),
                    None => Places::new(),
                }
            }
            // `first` hands back an element of its list, and reads nothing
            // else of it; any other builtin reads its arguments whole.
            ExprKind::Builtin { builtin, args } if builtin.name == "first" && args.len() == 1 => {
                let places = self.expr(&args[0], env);
                self.items_of(&places)
            }
            ExprKind::Builtin { args, .. } => {
                for a in args {
                    self.used(a, env);
                }
                Places::new()
            }
            ExprKind::Unary { operand, .. } => {
                self.used(operand, env);
                Places::new()
            }
            ExprKind::Binary { op, lhs, rhs } => {
                if *op == BinOp::Coalesce {
                    let mut places = self.expr(lhs, env);
                    places.extend(self.expr(rhs, env));
                    return places;
                }
                // Comparing with `null` reads whether a value is null, and
                // nothing of what it holds.
                let is_null = |e: &Expr| matches!(e.kind, ExprKind::Value(Value::Null));
                if matches!(op, BinOp::Eq | BinOp::Ne) && (is_null(lhs) || is_null(rhs)) {
                    self.expr(lhs, env);
                    self.expr(rhs, env);
                    return Places::new();
                }
                self.used(lhs, env);
                self.used(rhs, env);
                Places::new()
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.used(cond, env);
                let mut places = self.expr(then, env);
                places.extend(self.expr(otherwise, env));
                places
            }
            ExprKind::Comprehension { elem, binding } => {
                self.bind_loop(binding, env);
                let elements = self.expr(elem, env);
                vec![self.built_list(elements)]
            }
            ExprKind::Quantifier {
                slot, source, body, ..
            } => {
                let places = self.expr(source, env);
                let items = self.items_of(&places);
                env.set(*slot, items);
                self.used(body, env);
                Places::new()
            }
        }
    }

    fn constant(&mut self, id: usize) -> Places {
        if let Some(Some(places)) = self.consts.get(id) {
            return places.clone();
        }
        let Some(def) = self.program.consts.get(id) else {
            return Places::new();
        };
        // Constants form no cycles (the checker rejects them), so this ends.
        let places = self.expr(&def.value, &mut Env::default());
        if let Some(slot) = self.consts.get_mut(id) {
            *slot = Some(places.clone());
        }
        places
    }

    /// The node as a tree, ids assigned from `next` in preorder.
    fn shape(&self, node: usize, next: &mut usize) -> Shape {
        let id = *next;
        *next += 1;
        let n = &self.nodes[node];
        if n.whole {
            return Shape {
                whole: true,
                id,
                ..Shape::default()
            };
        }
        let fields = n
            .fields
            .iter()
            .map(|(k, child)| (k.clone(), self.shape(*child, next)))
            .collect();
        let items = n.items.map(|child| Box::new(self.shape(child, next)));
        Shape {
            whole: false,
            fields,
            items,
            keep_unnamed: false,
            id,
        }
    }
}

/// Where each local slot's value may be.
#[derive(Default)]
struct Env(Vec<Places>);

impl Env {
    fn get(&self, slot: usize) -> Places {
        self.0.get(slot).cloned().unwrap_or_default()
    }

    fn set(&mut self, slot: usize, places: Places) {
        if slot >= self.0.len() {
            self.0.resize(slot + 1, Places::new());
        }
        self.0[slot] = places;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand(src: &str) -> Demand {
        let set = crate::PolicySet::from_sources([("p.edict".to_string(), src.to_string())])
            .unwrap_or_else(|e| panic!("{e:?}"));
        set.demand()
    }

    /// A shape in brief: `!` whole, `{…}` fields, `[…]` elements.
    fn sketch(s: &Shape) -> String {
        if s.whole {
            return "!".into();
        }
        let mut out = String::new();
        if !s.fields.is_empty() {
            let fields: Vec<String> = s
                .fields
                .iter()
                .map(|(k, v)| format!("{k}{}", sketch(v)))
                .collect();
            out.push_str(&format!("{{{}}}", fields.join(" ")));
        }
        if let Some(items) = &s.items {
            out.push_str(&format!("[{}]", sketch(items)));
        }
        out
    }

    fn top(d: &Demand) -> String {
        sketch(d.root())
    }

    #[test]
    fn reading_fields_demands_only_those_fields() {
        // Each `for` record's `id` too: it names a subject whose clause fails.
        // `patched` is only tested for null: nothing in it is read.
        let d = demand(
            r#"rule r {
  for a in assets
  for f in a.findings where f?.severity != "info"
  subject "{a.id}:{f.cve}"
  require f.patched != null else "{a.hostname}"
}"#,
        );
        assert_eq!(
            top(&d),
            "{assets[{findings[{severity! id! cve! patched}] id! hostname!}]}"
        );
        assert_eq!(sketch(d.key("people")), "", "a key no rule reads");
    }

    #[test]
    fn values_flow_through_lets_functions_and_coalescing() {
        let d = demand(
            r#"fn owner(x) = x.owner ?? x.team
rule r {
  for a in assets
  let o = owner(a)
  require o.name == "ops"
}"#,
        );
        assert_eq!(top(&d), "{assets[{owner{name!} team{name!} id!}]}");
    }

    #[test]
    fn any_other_use_demands_the_whole_value() {
        // Compared, counted, printed, indexed by a computed key: all whole.
        let d = demand(
            r#"rule r {
  for a in assets
  require a.tags == ["x"] and count(a.ports) > 0 and a.meta[a.kind] != null
    else "{a.owner}"
}"#,
        );
        assert_eq!(top(&d), "{assets[{id! tags! ports! meta! kind! owner!}]}");
    }

    #[test]
    fn register_entries_are_whole_and_a_null_test_reads_nothing() {
        let d = demand(
            r#"fn entry(c) = first([v for v in kev.vulnerabilities where v.cveID == c])
rule r {
  for a in assets
  subject a.id
  require entry(a.cve) == null
}
waiver w for r {
  from e in exceptions where e.asset == a.id
  require e.ok == true
}"#,
        );
        assert_eq!(
            top(&d),
            "{kev{vulnerabilities[{cveID!}]} assets[{id! cve!}] exceptions[!]}"
        );
    }

    #[test]
    fn a_catalog_lookup_demands_the_entry_fields_it_reads() {
        // The KEV idiom: `first` of a comprehension hands back a catalog
        // entry, compared with null and read by field.
        let d = demand(
            r#"fn entry(c) = first([v for v in kev.vulnerabilities where v.cveID == c])
rule r {
  for a in assets
  let k = entry(a.cve)
  where k != null
  subject a.id
  require date(k.dueDate) >= today else "{k.product}"
}"#,
        );
        assert_eq!(
            top(&d),
            "{kev{vulnerabilities[{cveID! dueDate! product!}]} assets[{cve! id!}]}"
        );
        // Anything else done with the built list reads its elements whole.
        let d = demand(
            "rule r {\n  for a in assets\n  require count([f for f in a.findings where f.open]) == 0\n}",
        );
        assert_eq!(top(&d), "{assets[{id! findings[!]}]}");
    }

    #[test]
    fn a_streamed_record_keeps_its_id() {
        let src = "rule r {\n  for a in assets\n  subject a.name\n  require a.ok\n}";
        let set =
            crate::PolicySet::from_sources([("p.edict".to_string(), src.to_string())]).unwrap();
        let d = Demand::streaming(set.program(), "assets");
        assert_eq!(top(&d), "{assets[{id! name! ok!}]}");
    }
}
