//! Accounts, sessions and the [`Scope`] that every scoped read requires.
//!
//! A `Scope` has a private constructor: the only ways to obtain one are a successful
//! [`Db::login`], a live session or bearer token ([`Db::session_principal`]), or the explicit
//! [`Principal::console_operator`] for commands run on the server itself.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::Chain;
use crate::columns::StoredRow;
use crate::{on_pool, on_tx, timestamp, Db, Result, StorageError};

/// What a user is, which decides what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Province,
    City,
    Enterprise,
    Consultancy,
    Expert,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Province,
        Role::City,
        Role::Enterprise,
        Role::Consultancy,
        Role::Expert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Province => "province",
            Role::City => "city",
            Role::Enterprise => "enterprise",
            Role::Consultancy => "consultancy",
            Role::Expert => "expert",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Province => "省级",
            Role::City => "市州",
            Role::Enterprise => "企业",
            Role::Consultancy => "咨询服务机构",
            Role::Expert => "专家",
        }
    }
}

/// What the caller may see. Built only by authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(ScopeKind);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeKind {
    /// The whole province.
    Province,
    /// One city-level unit (by jurisdiction code).
    City(String),
    /// One enterprise (by id).
    Enterprise(i64),
    /// The enterprises that engaged one consultancy.
    Consultancy(i64),
    /// The reviews one expert was drawn for; no registry access.
    Expert(i64),
}

impl Scope {
    pub fn kind(&self) -> &ScopeKind {
        &self.0
    }

    /// Whether the scope covers a city's whole registry (for creating or editing enterprises).
    pub fn may_manage_city(&self, jurisdiction_code: &str) -> bool {
        match &self.0 {
            ScopeKind::Province => true,
            ScopeKind::City(code) => code == jurisdiction_code,
            _ => false,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// `None` for the console operator.
    pub user_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    scope: Scope,
}

impl Principal {
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The person at the server's console (the `cpaudit` command): they hold the database
    /// already, so they act with province scope, recorded as such in the audit trail.
    pub fn console_operator(name: &str) -> Principal {
        Principal {
            user_id: None,
            username: name.to_string(),
            display_name: name.to_string(),
            role: Role::Province,
            scope: Scope(ScopeKind::Province),
        }
    }

    /// The console operator acting in the part of an enterprise or a consultancy (the demo
    /// loader walks rounds through their steps this way). No more than the console operator
    /// may do already; recorded as the console in the audit trail.
    pub fn console_acting_for(name: &str, role: Role, subject_id: i64) -> Principal {
        let kind = match role {
            Role::Enterprise => ScopeKind::Enterprise(subject_id),
            Role::Consultancy => ScopeKind::Consultancy(subject_id),
            Role::Expert => ScopeKind::Expert(subject_id),
            Role::Province | Role::City => ScopeKind::Province,
        };
        Principal {
            user_id: None,
            username: name.to_string(),
            display_name: name.to_string(),
            role,
            scope: Scope(kind),
        }
    }

    /// The console operator acting as an official of one city (see `console_acting_for`).
    pub fn console_acting_for_city(name: &str, city_code: &str) -> Principal {
        Principal {
            user_id: None,
            username: name.to_string(),
            display_name: name.to_string(),
            role: Role::City,
            scope: Scope(ScopeKind::City(city_code.to_string())),
        }
    }

    /// How the audit trail names this caller.
    pub fn actor(&self) -> String {
        match self.user_id {
            Some(id) => format!("user:{id}:{}", self.username),
            None => format!("console:{}", self.username),
        }
    }
}

/// The kind of session: a browser cookie or an API bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Cookie,
    Bearer,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Cookie => "cookie",
            SessionKind::Bearer => "bearer",
        }
    }
}

/// A new session: the secret token goes to the client, only its hash is stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Why a login failed. Unknown user and wrong password are deliberately the same answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    InvalidCredentials,
    Throttled { retry_after_seconds: i64 },
}

/// Login throttling: after `max_failures` failures within `window`, refuse for the rest of it.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub max_failures: i64,
    pub window: Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            max_failures: 5,
            window: Duration::minutes(15),
        }
    }
}

/// A user account as listed (never with its hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub jurisdiction_code: Option<String>,
    pub enterprise_id: Option<i64>,
    pub consultancy_id: Option<i64>,
    pub expert_id: Option<i64>,
    pub disabled: bool,
}

/// A user to create; the binding must fit the role (checked by [`Db::add_user`]).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub jurisdiction_code: Option<String>,
    pub enterprise_id: Option<i64>,
    pub consultancy_id: Option<i64>,
    pub expert_id: Option<i64>,
}

pub const MIN_PASSWORD_CHARS: usize = 10;

const USER_COLUMNS: &str = "id, username, display_name, role, jurisdiction_code, enterprise_id, \
                            consultancy_id, expert_id, disabled";

/// A `users` row; `secret` is the password hash or the session's CSRF token when the query
/// selects one under that name.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    jurisdiction_code: Option<String>,
    enterprise_id: Option<i64>,
    consultancy_id: Option<i64>,
    expert_id: Option<i64>,
    disabled: bool,
    #[sqlx(default)]
    secret: String,
}

impl UserRow {
    fn summary(&self) -> Result<UserSummary> {
        Ok(UserSummary {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: StoredRow::new("users", self.id).read("role", &self.role)?,
            jurisdiction_code: self.jurisdiction_code.clone(),
            enterprise_id: self.enterprise_id,
            consultancy_id: self.consultancy_id,
            expert_id: self.expert_id,
            disabled: self.disabled,
        })
    }
}

impl UserSummary {
    fn principal(&self) -> Result<Principal> {
        let missing = |zh: &str, en: &str| {
            StorageError::refused(
                "account_unbound",
                format!("账号“{}”未绑定{zh}，不能使用", self.username),
                format!("user {} has no {en} binding", self.username),
            )
        };
        let scope = match self.role {
            Role::Province => ScopeKind::Province,
            Role::City => ScopeKind::City(
                self.jurisdiction_code
                    .clone()
                    .ok_or_else(|| missing("所属市州", "jurisdiction"))?,
            ),
            Role::Enterprise => ScopeKind::Enterprise(
                self.enterprise_id
                    .ok_or_else(|| missing("所属企业", "enterprise"))?,
            ),
            Role::Consultancy => ScopeKind::Consultancy(
                self.consultancy_id
                    .ok_or_else(|| missing("所属咨询服务机构", "consultancy"))?,
            ),
            Role::Expert => ScopeKind::Expert(
                self.expert_id
                    .ok_or_else(|| missing("专家身份", "expert"))?,
            ),
        };
        Ok(Principal {
            user_id: Some(self.id),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            scope: Scope(scope),
        })
    }
}

/// Hashes a password with argon2id (default parameters, random salt).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StorageError::Hashing(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid hash of a random password, verified against when the user does not exist so that
/// an unknown name takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Db {
    /// Checks a username and password. Failures are counted per username; too many within the
    /// throttle window refuse further attempts until the window has passed.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
        throttle: Throttle,
    ) -> Result<std::result::Result<Principal, LoginError>> {
        let window_start = timestamp(now - throttle.window);
        let (failures, oldest): (i64, Option<String>) = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT COUNT(*), MIN(at) FROM login_failures WHERE username = $1 AND at > $2",
            )
            .bind(username)
            .bind(&window_start)
            .fetch_one(pool)
            .await
        })?;
        if failures >= throttle.max_failures {
            let retry_after_seconds = oldest
                .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
                .map(|oldest| (oldest.with_timezone(&Utc) + throttle.window - now).num_seconds())
                .unwrap_or(throttle.window.num_seconds())
                .max(1);
            return Ok(Err(LoginError::Throttled {
                retry_after_seconds,
            }));
        }

        let sql = format!(
            "SELECT {USER_COLUMNS}, password_hash AS secret FROM users \
             WHERE username = $1 AND NOT disabled"
        );
        let found: Option<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(username)
                .fetch_optional(pool)
                .await
        })?;
        let found = found
            .map(|row| row.summary().map(|summary| (summary, row.secret)))
            .transpose()?;
        let hash = found
            .as_ref()
            .map(|(_, hash)| hash.clone())
            .unwrap_or_else(|| dummy_hash().to_string());
        let password = password.to_string();
        let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false);

        match found {
            Some((user, _)) if verified => {
                on_pool!(self, |pool| {
                    sqlx::query("DELETE FROM login_failures WHERE username = $1")
                        .bind(username)
                        .execute(pool)
                        .await
                        .map(|done| done.rows_affected())
                })?;
                Ok(Ok(user.principal()?))
            }
            _ => {
                on_pool!(self, |pool| {
                    sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)")
                        .bind(username)
                        .bind(timestamp(now))
                        .execute(pool)
                        .await
                        .map(|done| done.rows_affected())
                })?;
                Ok(Err(LoginError::InvalidCredentials))
            }
        }
    }

    /// Opens a session for a logged-in user.
    pub async fn create_session(
        &self,
        principal: &Principal,
        kind: SessionKind,
        now: DateTime<Utc>,
        lifetime: Duration,
    ) -> Result<NewSession> {
        let user_id = principal.user_id.ok_or_else(|| {
            StorageError::refused(
                "console_has_no_session",
                "控制台操作员没有登录会话",
                "the console operator has no sessions",
            )
        })?;
        let session = NewSession {
            token: random_token(),
            csrf_token: random_token(),
            expires_at: now + lifetime,
        };
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, kind, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token_hash(&session.token))
            .bind(user_id)
            .bind(kind.as_str())
            .bind(&session.csrf_token)
            .bind(timestamp(now))
            .bind(timestamp(session.expires_at))
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(session)
    }

    /// The caller behind a session token, with the session's CSRF token; `None` when the token
    /// is unknown, expired, of the other kind, or its user is disabled.
    pub async fn session_principal(
        &self,
        token: &str,
        kind: SessionKind,
        now: DateTime<Utc>,
    ) -> Result<Option<(Principal, String)>> {
        let sql = format!(
            "SELECT {columns}, s.csrf_token AS secret FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.kind = $2 AND s.expires_at > $3 AND NOT u.disabled",
            columns = USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let found: Option<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(token_hash(token))
                .bind(kind.as_str())
                .bind(timestamp(now))
                .fetch_optional(pool)
                .await
        })?;
        match found {
            Some(row) => Ok(Some((row.summary()?.principal()?, row.secret))),
            None => Ok(None),
        }
    }

    /// Ends a session (log out). Unknown tokens are ignored.
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash(token))
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(())
    }

    /// Removes expired sessions, old login failures and abandoned staged imports (housekeeping,
    /// not audited).
    pub async fn purge_expired(&self, now: DateTime<Utc>, throttle: Throttle) -> Result<u64> {
        let now_text = timestamp(now);
        let cutoff = timestamp(now - throttle.window);
        let (sessions, failures) = on_pool!(self, |pool| {
            let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(&now_text)
                .execute(pool)
                .await?
                .rows_affected();
            let failures = sqlx::query("DELETE FROM login_failures WHERE at <= $1")
                .bind(&cutoff)
                .execute(pool)
                .await?
                .rows_affected();
            let imports = sqlx::query("DELETE FROM pending_imports WHERE created_at <= $1")
                .bind(&cutoff)
                .execute(pool)
                .await?
                .rows_affected();
            (sessions, failures + imports)
        });
        Ok(sessions + failures)
    }

    /// Creates a user account (audited). The binding must fit the role: a city user needs a
    /// city, an enterprise user an enterprise, and so on.
    pub async fn add_user(
        &self,
        actor: &Principal,
        user: &NewUser,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        require_province(actor)?;
        check_binding(user)?;
        if user.password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(password_too_short());
        }
        let password = user.password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| StorageError::Hashing(e.to_string()))??;
        let mut tx = self.begin().await?;
        let inserted = on_tx!(&mut tx, |conn| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO users (username, display_name, password_hash, role, jurisdiction_code, \
                 enterprise_id, consultancy_id, expert_id, disabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, $9) RETURNING id",
            )
            .bind(&user.username)
            .bind(&user.display_name)
            .bind(&hash)
            .bind(user.role.as_str())
            .bind(&user.jurisdiction_code)
            .bind(user.enterprise_id)
            .bind(user.consultancy_id)
            .bind(user.expert_id)
            .bind(timestamp(now))
            .fetch_one(conn)
            .await
        });
        let id = match inserted {
            Ok(id) => id,
            Err(error) if StorageError::is_unique_violation(&error) => {
                return Err(StorageError::Duplicate {
                    field: "username",
                    value: user.username.clone(),
                })
            }
            Err(error) => return Err(error.into()),
        };
        let after = serde_json::json!({
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role.as_str(),
            "jurisdiction_code": user.jurisdiction_code,
            "enterprise_id": user.enterprise_id,
            "consultancy_id": user.consultancy_id,
            "expert_id": user.expert_id,
        });
        let mut chain = Chain::open(&mut tx).await?;
        chain
            .append(
                &mut tx,
                actor,
                "user.create",
                ("user", &id.to_string()),
                None,
                Some(&after),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Sets a new password and ends the user's sessions (audited, without the hash).
    pub async fn set_password(
        &self,
        actor: &Principal,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        require_province(actor)?;
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(password_too_short());
        }
        let owned = password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&owned))
            .await
            .map_err(|e| StorageError::Hashing(e.to_string()))??;
        self.change_user(actor, username, "user.password", now, |username| {
            (
                "UPDATE users SET password_hash = $2 WHERE username = $1".to_string(),
                vec![username.to_string(), hash.clone()],
            )
        })
        .await
    }

    /// Disables or re-enables a user; disabling ends its sessions (audited).
    pub async fn set_disabled(
        &self,
        actor: &Principal,
        username: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        require_province(actor)?;
        let sql = if disabled {
            "UPDATE users SET disabled = TRUE WHERE username = $1"
        } else {
            "UPDATE users SET disabled = FALSE WHERE username = $1"
        };
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        self.change_user(actor, username, action, now, |username| {
            (sql.to_string(), vec![username.to_string()])
        })
        .await
    }

    async fn change_user(
        &self,
        actor: &Principal,
        username: &str,
        action: &str,
        now: DateTime<Utc>,
        statement: impl Fn(&str) -> (String, Vec<String>),
    ) -> Result<()> {
        let (sql, binds) = statement(username);
        let mut tx = self.begin().await?;
        let (user_id, changed) = on_tx!(&mut tx, |conn| {
            let user_id: Option<i64> =
                sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&mut *conn)
                    .await?;
            let mut query = sqlx::query(&sql);
            for bind in &binds {
                query = query.bind(bind);
            }
            let changed = query.execute(&mut *conn).await?.rows_affected();
            if let Some(id) = user_id {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            (user_id, changed)
        });
        let Some(user_id) = user_id.filter(|_| changed > 0) else {
            return Err(StorageError::NotFound);
        };
        let after = serde_json::json!({ "username": username });
        let mut chain = Chain::open(&mut tx).await?;
        chain
            .append(
                &mut tx,
                actor,
                action,
                ("user", &user_id.to_string()),
                None,
                Some(&after),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(())
    }

    /// All user accounts, for the province.
    pub async fn list_users(&self, scope: &Scope) -> Result<Vec<UserSummary>> {
        if scope.kind() != &ScopeKind::Province {
            return Err(StorageError::refused(
                "province_lists_users",
                "只有省级主管部门可以查看用户账号",
                "only the province lists users",
            ));
        }
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        let rows: Vec<UserRow> = on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.iter().map(UserRow::summary).collect()
    }
}

fn require_province(actor: &Principal) -> Result<()> {
    if actor.scope().kind() == &ScopeKind::Province {
        Ok(())
    } else {
        Err(StorageError::refused(
            "province_manages_accounts",
            "只有省级主管部门可以管理用户账号",
            "only the province manages accounts",
        ))
    }
}

fn password_too_short() -> StorageError {
    StorageError::invalid(
        "password",
        "password_too_short",
        format!("密码至少需要 {MIN_PASSWORD_CHARS} 个字符"),
        format!("the password must have at least {MIN_PASSWORD_CHARS} characters"),
    )
}

fn check_binding(user: &NewUser) -> Result<()> {
    let needed = match user.role {
        Role::Province => None,
        Role::City => {
            user.jurisdiction_code
                .is_none()
                .then_some(("jurisdiction_code", "--city", "所属市州"))
        }
        Role::Enterprise => {
            user.enterprise_id
                .is_none()
                .then_some(("enterprise_id", "--enterprise", "所属企业"))
        }
        Role::Consultancy => user.consultancy_id.is_none().then_some((
            "consultancy_id",
            "--consultancy",
            "所属咨询服务机构",
        )),
        Role::Expert => user
            .expert_id
            .is_none()
            .then_some(("expert_id", "--expert", "专家身份")),
    };
    match needed {
        Some((field, option, zh)) => Err(StorageError::invalid(
            field,
            "binding_required",
            format!("{}账号须绑定{zh}（{option}）", user.role.name_zh()),
            format!("a {} user needs {option}", user.role.as_str()),
        )),
        None => Ok(()),
    }
}
