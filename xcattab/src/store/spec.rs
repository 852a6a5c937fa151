//! Store names, as xCAT writes them in `/etc/xcat/cfgloc` and `XCATCFG`.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use super::StoreError;

/// Where the tables live.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// `CSV:/dir`: a directory of `<table>.csv` files as `dumpxCATdb -p /dir` writes them.
    Csv(PathBuf),
    /// `SQLite:/dir` (or a bare path): one `<table>.sqlite` file per table.
    Sqlite(PathBuf),
    /// `Pg:dbname=…;host=…|user|password`.
    Pg(Dsn),
    /// `mysql:dbname=…;host=…|user|password` (MariaDB too).
    Mysql(Dsn),
    /// `DB2:…|instance|password`.
    Db2(Dsn),
}

/// A network database's connection string and credentials (never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct Dsn {
    /// The DBI data source after the driver name, e.g. `dbname=xcatdb;host=10.0.0.1`.
    pub source: String,
    /// User name (text between the first and second `|`).
    pub user: String,
    /// Password (everything after the second `|`).
    pub password: String,
}

/// Shows the data source (with any credentials in it hidden), never the user or password.
///
/// ```
/// let spec = xcattab::store::StoreSpec::parse("Pg:dbname=x;host=h|xcatadm|secret").unwrap();
/// let xcattab::store::StoreSpec::Pg(dsn) = spec else { unreachable!() };
/// assert_eq!(format!("{dsn:?}"), r#"Dsn("dbname=x;host=h", user and password hidden)"#);
/// ```
impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Dsn({:?}, user and password hidden)",
            self.display_source()
        )
    }
}

/// Whether `key` (of a `key=value` part of a data source) names a credential, whose value is
/// never shown.
pub(crate) fn is_secret_key(key: &str) -> bool {
    matches!(
        key.trim().to_ascii_lowercase().as_str(),
        "password" | "passwd" | "pwd" | "user" | "username" | "uid"
    )
}

impl Dsn {
    /// The data source as shown to users: the values of credential keys (`password=`,
    /// `user=`, …, which belong after the `|`) replaced by `<hidden>`.
    ///
    /// ```
    /// let dsn = xcattab::store::Dsn {
    ///     source: "dbname=x;password=secret".into(),
    ///     user: String::new(),
    ///     password: String::new(),
    /// };
    /// assert_eq!(dsn.display_source(), "dbname=x;password=<hidden>");
    /// ```
    pub fn display_source(&self) -> Cow<'_, str> {
        let secret = |part: &str| part.split_once('=').is_some_and(|(k, _)| is_secret_key(k));
        if !self.source.split(';').any(secret) {
            return Cow::Borrowed(&self.source);
        }
        let parts: Vec<Cow<'_, str>> = self
            .source
            .split(';')
            .map(|part| match part.split_once('=') {
                Some((k, _)) if is_secret_key(k) => Cow::Owned(format!("{k}=<hidden>")),
                _ => Cow::Borrowed(part),
            })
            .collect();
        Cow::Owned(parts.join(";"))
    }
}

impl StoreSpec {
    /// Parses a store name the way xCAT reads its configuration string: the driver name up to
    /// the first `:`; a bare path (no driver) means SQLite; everything after the first `|` is
    /// user and password.
    ///
    /// ```
    /// use xcattab::store::StoreSpec;
    /// assert_eq!(StoreSpec::parse("CSV:/tmp/db").unwrap(), StoreSpec::Csv("/tmp/db".into()));
    /// assert_eq!(StoreSpec::parse("/etc/xcat").unwrap(), StoreSpec::Sqlite("/etc/xcat".into()));
    /// let pg = StoreSpec::parse("Pg:dbname=xcatdb;host=10.0.0.1|xcatadm|secret").unwrap();
    /// assert_eq!(pg.to_string(), "Pg:dbname=xcatdb;host=10.0.0.1"); // no credentials
    /// assert!(StoreSpec::parse("Oracle:x").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let text = text.trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            return Err(StoreError::BadSpec {
                spec: String::new(),
                reason: "the store name is empty".into(),
            });
        }
        let Some((driver, rest)) = text.split_once(':').filter(|(d, _)| !d.contains('/')) else {
            return Ok(StoreSpec::Sqlite(PathBuf::from(text)));
        };
        let need_path = |rest: &str| -> Result<PathBuf, StoreError> {
            if rest.is_empty() {
                Err(StoreError::BadSpec {
                    spec: format!("{driver}:"),
                    reason: "no directory after the driver name".into(),
                })
            } else {
                Ok(PathBuf::from(rest))
            }
        };
        let dsn = |rest: &str| {
            let mut parts = rest.splitn(3, '|');
            Dsn {
                source: parts.next().unwrap_or("").to_string(),
                user: parts.next().unwrap_or("").to_string(),
                password: parts.next().unwrap_or("").to_string(),
            }
        };
        match driver {
            "CSV" | "csv" => Ok(StoreSpec::Csv(need_path(rest)?)),
            "SQLite" | "sqlite" | "SQLite3" => Ok(StoreSpec::Sqlite(need_path(rest)?)),
            "Pg" | "pg" | "Pg2" => Ok(StoreSpec::Pg(dsn(rest))),
            "mysql" | "MySQL" => Ok(StoreSpec::Mysql(dsn(rest))),
            "DB2" => Ok(StoreSpec::Db2(dsn(rest))),
            // `Pg|user|pass:word`: the text before the first `:` runs into the credentials
            // (xCAT takes it as a DBI data source without a driver); never show past the `|`.
            other if other.contains('|') => Err(StoreError::BadSpec {
                spec: format!("{}|…", other.split('|').next().unwrap_or("")),
                reason: "no ':' after the driver name (expected DRIVER:SOURCE|USER|PASSWORD)"
                    .into(),
            }),
            other => Err(StoreError::BadSpec {
                spec: other.to_string() + ":…",
                reason: "unknown database driver (expected CSV, SQLite, Pg, mysql or DB2)".into(),
            }),
        }
    }

    /// The directory of a CSV or SQLite store.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            StoreSpec::Csv(p) | StoreSpec::Sqlite(p) => Some(p),
            _ => None,
        }
    }
}

/// Prints the store name without user or password (see [`Dsn::display_source`]).
impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::Csv(p) => write!(f, "CSV:{}", p.display()),
            StoreSpec::Sqlite(p) => write!(f, "SQLite:{}", p.display()),
            StoreSpec::Pg(d) => write!(f, "Pg:{}", d.display_source()),
            StoreSpec::Mysql(d) => write!(f, "mysql:{}", d.display_source()),
            StoreSpec::Db2(d) => write!(f, "DB2:{}", d.display_source()),
        }
    }
}

impl fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreSpec({self})")
    }
}

/// Which setting named the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecSource {
    /// The command's `--db` option.
    Option,
    /// The `XCATCFG` environment variable.
    Env,
    /// The first line of `/etc/xcat/cfgloc`.
    Cfgloc,
    /// Nothing configured: xCAT's default, `SQLite:/opt/xcat/cfg` if that directory exists,
    /// else `SQLite:/etc/xcat`.
    Default,
}

impl fmt::Display for SpecSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpecSource::Option => "--db",
            SpecSource::Env => "XCATCFG",
            SpecSource::Cfgloc => "/etc/xcat/cfgloc",
            SpecSource::Default => "xCAT's default",
        })
    }
}

/// The default location of xCAT's configuration string.
pub const CFGLOC: &str = "/etc/xcat/cfgloc";

/// Picks the store as xCAT does: the `--db` option, then `XCATCFG`, then the first line of
/// `cfgloc`, then `SQLite:/opt/xcat/cfg` if that directory exists, then `SQLite:` the
/// directory of `cfgloc` (`/etc/xcat`) if it exists. `env` and `cfgloc` are parameters so
/// callers (and tests) control them.
///
/// ```
/// use xcattab::store::{select_spec, SpecSource, StoreSpec};
/// let (spec, from) = select_spec(None, Some("CSV:/x".into()), std::path::Path::new("/nonexistent")).unwrap();
/// assert_eq!((spec, from), (StoreSpec::Csv("/x".into()), SpecSource::Env));
/// ```
pub fn select_spec(
    option: Option<&str>,
    env: Option<String>,
    cfgloc: &Path,
) -> Result<(StoreSpec, SpecSource), StoreError> {
    if let Some(o) = option {
        return Ok((StoreSpec::parse(o)?, SpecSource::Option));
    }
    if let Some(e) = env.filter(|e| !e.is_empty()) {
        return Ok((StoreSpec::parse(&e)?, SpecSource::Env));
    }
    match std::fs::read_to_string(cfgloc) {
        Ok(text) => {
            let first = text.lines().next().unwrap_or("");
            StoreSpec::parse(first)
                .map(|s| (s, SpecSource::Cfgloc))
                .map_err(|e| match e {
                    StoreError::BadSpec { reason, .. } => StoreError::BadSpec {
                        spec: format!("first line of {}", cfgloc.display()),
                        reason,
                    },
                    other => other,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // xCAT's fallback (Table.pm get_xcatcfg): SQLite in /opt/xcat/cfg if it exists,
            // else in /etc/xcat (the directory of cfgloc) if that exists.
            let etc = cfgloc.parent().filter(|p| !p.as_os_str().is_empty());
            [Some(Path::new("/opt/xcat/cfg")), etc]
                .into_iter()
                .flatten()
                .find(|d| d.is_dir())
                .map(|d| (StoreSpec::Sqlite(d.to_path_buf()), SpecSource::Default))
                .ok_or_else(|| StoreError::NoStore {
                    cfgloc: cfgloc.to_path_buf(),
                })
        }
        Err(e) => Err(StoreError::Io {
            path: cfgloc.to_path_buf(),
            op: "read",
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            StoreSpec::parse("SQLite:/etc/xcat").unwrap(),
            StoreSpec::Sqlite("/etc/xcat".into())
        );
        let m = StoreSpec::parse("mysql:dbname=xcatdb;host=1.2.3.4|xcatadmin|p|w").unwrap();
        match &m {
            StoreSpec::Mysql(d) => {
                assert_eq!(d.user, "xcatadmin");
                assert_eq!(d.password, "p|w");
            }
            _ => panic!("{m:?}"),
        }
        assert!(!format!("{m:?}").contains("p|w"));
        assert!(StoreSpec::parse("CSV:").is_err());
        assert!(StoreSpec::parse("").is_err());
    }

    #[test]
    fn selection_order() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cfgloc");
        std::fs::write(&cfg, "CSV:/from/cfgloc\nignored\n").unwrap();
        let pick =
            |o: Option<&str>, e: Option<&str>| select_spec(o, e.map(String::from), &cfg).unwrap();
        assert_eq!(pick(Some("CSV:/o"), Some("CSV:/e")).1, SpecSource::Option);
        assert_eq!(pick(None, Some("CSV:/e")).1, SpecSource::Env);
        assert_eq!(
            pick(None, Some("")),
            (StoreSpec::Csv("/from/cfgloc".into()), SpecSource::Cfgloc)
        );
        let missing = dir.path().join("nope").join("cfgloc");
        assert!(matches!(
            select_spec(None, None, &missing),
            Err(StoreError::NoStore { .. })
        ));
        // No cfgloc, but its directory exists: xCAT's default SQLite store there.
        if !Path::new("/opt/xcat/cfg").is_dir() {
            let absent = dir.path().join("cfgloc.absent");
            assert_eq!(
                select_spec(None, None, &absent).unwrap(),
                (
                    StoreSpec::Sqlite(dir.path().to_path_buf()),
                    SpecSource::Default
                )
            );
        }
    }
}
