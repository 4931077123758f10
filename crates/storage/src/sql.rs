//! SQL built at run time with positional arguments, and the one condition that limits a query
//! to what a scope may see.

use crate::auth::ScopeKind;
use crate::Scope;

/// Bind values for SQL built at run time.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// The positional arguments (`$1`, `$2`, … on both databases) of SQL built at run time.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub(crate) args: Vec<Arg>,
}

impl Sql {
    pub(crate) fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }
}

/// Binds the arguments of a [`Sql`] to a query, in order.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Int(number) => query.bind(*number),
                Arg::Bool(flag) => query.bind(*flag),
            };
        }
        query
    }};
}

pub(crate) use bind_args;

/// The enterprises a consultancy is engaged by now: the one consultancy scope rule. An
/// engagement that ended takes the registry and the evidence away from the consultancy; the
/// rounds it handled stay open to it (`rounds::round_scope_condition`).
pub(crate) fn engaged_enterprises(consultancy_arg: &str) -> String {
    format!(
        "SELECT enterprise_id FROM engagements WHERE consultancy_id = {consultancy_arg} \
         AND ended_on IS NULL"
    )
}

/// The condition on the enterprise alias `e` that limits rows to the scope. Every scoped read
/// joins `enterprises e` and puts this first in its WHERE clause.
pub(crate) fn scope_condition(sql: &mut Sql, scope: &Scope) -> String {
    match scope.kind() {
        ScopeKind::Province => "1 = 1".into(),
        ScopeKind::City(code) => {
            format!("e.jurisdiction_code = {}", sql.arg(Arg::Text(code.clone())))
        }
        ScopeKind::Enterprise(id) => format!("e.id = {}", sql.arg(Arg::Int(*id))),
        ScopeKind::Consultancy(id) => {
            format!("e.id IN ({})", engaged_enterprises(&sql.arg(Arg::Int(*id))))
        }
        // Experts see the reviews they were drawn for, not the registry.
        ScopeKind::Expert(_) => "1 = 0".into(),
    }
}
