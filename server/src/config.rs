//! Settings from environment variables, validated once at start. Every setting is listed in
//! the configuration table in docs/configuration.md with its default.

use app::record::settings::RecordSettings;
use app::settings::{AccountPolicy, MessagingPolicy, Organisation, PortalSettings, SessionPolicy, ThrottlePolicy};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    pub portal: PortalSettings,
    pub database_url: String,
    pub db_max_connections: u32,
    pub data_dir: PathBuf,
    /// The key that seals the authenticator-app secrets in the database (created at first start
    /// when missing; every app server sharing a database needs the same file).
    pub secrets_key_file: PathBuf,
    pub mail: MailConfig,
    /// Take the client's address from `X-Forwarded-For` (set by the load balancer).
    pub trust_proxy: bool,
    pub log_json: bool,
    /// Where Prometheus metrics are served (a separate, internal listener); none by default.
    pub metrics_addr: Option<SocketAddr>,
    /// How long a stopping server lets requests in flight finish before it drops them.
    pub shutdown_grace: Duration,
    /// How long a stopping server goes on serving, with `/readyz` answering 503, before it
    /// stops taking connections: time for the load balancer's health check to notice.
    pub shutdown_delay: Duration,
    /// The portal's clock: the system's (tests set a fixed one; no setting changes it).
    pub clock: app::platform::clock::Clock,
}

#[derive(Clone, Debug)]
pub enum MailConfig {
    /// Development: each e-mail is written as a `.eml` file to this folder.
    Drop(PathBuf),
    Smtp(SmtpConfig),
}

#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Where settings are read from: the environment, or a table in tests.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn secs(var: Lookup, name: &str, default: u64) -> Result<Duration, ConfigError> {
    match var(name) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => v.trim().parse::<u64>().map(Duration::from_secs).map_err(|_| ConfigError(format!("{name} must be a whole number of seconds, not {v:?}"))),
    }
}

/// The organisation's Notice of Privacy Practices, read once at start (SPEC R-GEN-7): UTF-8
/// text with the few Markdown marks `app/src/info/privacy.rs` reads. A missing, empty or huge
/// file stops the start rather than showing patients the sample notice by mistake.
fn read_privacy_notice(path: &str) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError(format!("PORTAL_PRIVACY_NOTICE_FILE {path:?} cannot be read as UTF-8 text: {e}")))?;
    if text.trim().is_empty() || text.len() > 256 * 1024 {
        return Err(ConfigError(format!("PORTAL_PRIVACY_NOTICE_FILE {path:?} must hold the notice (1 byte to 256 KB)")));
    }
    Ok(text)
}

/// Where the medical record comes from (SPEC R-REC-2). The embedded source needs nothing; the
/// remote one needs the EHR's FHIR base URL, the client id the EHR registered the portal
/// under, the private key and its id: without them, or with a key that cannot sign, the
/// server does not start. FHIR settings without `PORTAL_RECORD_SOURCE=remote` are refused
/// too, so that nobody believes the portal reads the EHR when it reads its own copy.
fn record_settings(var: Lookup, production: bool) -> Result<RecordSettings, ConfigError> {
    use app::record::settings::{RemoteSettings, SourceSettings, DEFAULT_SCOPE, DEMO_MRN_SYSTEM};
    let mrn_system = var("PORTAL_FHIR_MRN_SYSTEM").map(|s| s.trim().to_string()).unwrap_or_else(|| DEMO_MRN_SYSTEM.into());
    let remote_names = [
        "PORTAL_FHIR_BASE_URL",
        "PORTAL_FHIR_TOKEN_URL",
        "PORTAL_FHIR_CLIENT_ID",
        "PORTAL_FHIR_KEY_FILE",
        "PORTAL_FHIR_KEY_ID",
        "PORTAL_FHIR_SCOPE",
        "PORTAL_FHIR_TIMEOUT_SECS",
        "PORTAL_FHIR_PAGE_SIZE",
    ];
    let source = match var("PORTAL_RECORD_SOURCE").as_deref().map(str::trim) {
        None | Some("embedded") => {
            if let Some(name) = remote_names.iter().find(|n| var(n).is_some()) {
                return Err(ConfigError(format!("{name} is set but PORTAL_RECORD_SOURCE is not remote (set PORTAL_RECORD_SOURCE=remote, or unset {name})")));
            }
            SourceSettings::Embedded
        }
        Some("remote") => {
            let required =
                |name: &str| var(name).map(|v| v.trim().to_string()).ok_or_else(|| ConfigError(format!("{name} is required with PORTAL_RECORD_SOURCE=remote")));
            let url = |name: &str, v: &str| -> Result<url::Url, ConfigError> {
                let u = url::Url::parse(v).map_err(|e| ConfigError(format!("{name} is not a URL: {e}")))?;
                let local = matches!(u.host_str(), Some("localhost") | Some("127.0.0.1") | Some("[::1]"));
                match u.scheme() {
                    "https" => Ok(u),
                    "http" if !production || local => Ok(u),
                    _ => Err(ConfigError(format!("{name} must be https:// (the record and the portal's token travel on it)"))),
                }
            };
            let base_url = url("PORTAL_FHIR_BASE_URL", &required("PORTAL_FHIR_BASE_URL")?)?;
            let token_url = match var("PORTAL_FHIR_TOKEN_URL") {
                Some(v) => Some(url("PORTAL_FHIR_TOKEN_URL", v.trim())?),
                None => None,
            };
            let key_file = required("PORTAL_FHIR_KEY_FILE")?;
            let pem = std::fs::read(&key_file).map_err(|e| ConfigError(format!("PORTAL_FHIR_KEY_FILE {key_file:?} cannot be read: {e}")))?;
            let key = app::record::smart::SigningKey::from_pem(&pem)
                .map_err(|why| ConfigError(format!("PORTAL_FHIR_KEY_FILE {key_file:?} cannot sign client assertions: {why}")))?;
            let timeout = secs(var, "PORTAL_FHIR_TIMEOUT_SECS", 10)?;
            if timeout.is_zero() || timeout > Duration::from_secs(120) {
                return Err(ConfigError("PORTAL_FHIR_TIMEOUT_SECS must be between 1 and 120".into()));
            }
            let page_size = match var("PORTAL_FHIR_PAGE_SIZE") {
                None => 100,
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(n) if (2..=1000).contains(&n) => n,
                    _ => return Err(ConfigError(format!("PORTAL_FHIR_PAGE_SIZE must be 2 to 1000, not {v:?}"))),
                },
            };
            SourceSettings::Remote(RemoteSettings {
                base_url,
                token_url,
                client_id: required("PORTAL_FHIR_CLIENT_ID")?,
                key,
                key_id: required("PORTAL_FHIR_KEY_ID")?,
                scope: var("PORTAL_FHIR_SCOPE")
                    .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                    .unwrap_or_else(|| DEFAULT_SCOPE.split_whitespace().collect::<Vec<_>>().join(" ")),
                timeout,
                page_size,
                max_pages: 50,
            })
        }
        Some(other) => return Err(ConfigError(format!("PORTAL_RECORD_SOURCE must be embedded or remote, not {other:?}"))),
    };
    let cache_mb = match var("PORTAL_RECORD_CACHE_MB") {
        None => app::record::settings::DEFAULT_CACHE_MB,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n <= 65_536 => n,
            _ => return Err(ConfigError(format!("PORTAL_RECORD_CACHE_MB must be 0 to 65536 (megabytes), not {v:?}"))),
        },
    };
    Ok(RecordSettings { source, mrn_system, cache_bytes: cache_mb << 20 })
}

fn flag(var: Lookup, name: &str) -> Result<bool, ConfigError> {
    match var(name).as_deref().map(str::trim) {
        None | Some("0") | Some("false") | Some("no") => Ok(false),
        Some("1") | Some("true") | Some("yes") => Ok(true),
        Some(v) => Err(ConfigError(format!("{name} must be true or false, not {v:?}"))),
    }
}

impl Config {
    /// Reads the environment. `site_addr` is where the server listens (from Leptos' options);
    /// it gives the default public URL in development.
    pub fn from_env(site_addr: SocketAddr) -> Result<Config, ConfigError> {
        Self::from_lookup(site_addr, &|name| std::env::var(name).ok())
    }

    pub fn from_lookup(site_addr: SocketAddr, lookup: Lookup) -> Result<Config, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let var: Lookup = &var;
        let production = match var("PORTAL_MODE").as_deref() {
            None | Some("development") => false,
            Some("production") => true,
            Some(other) => return Err(ConfigError(format!("PORTAL_MODE must be development or production, not {other:?}"))),
        };
        let data_dir = PathBuf::from(var("PORTAL_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = var("PORTAL_DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("portal.db").display()));
        let public_url = match var("PORTAL_PUBLIC_URL") {
            Some(u) => url::Url::parse(&u).map_err(|e| ConfigError(format!("PORTAL_PUBLIC_URL is not a URL: {e}")))?,
            None if production => return Err(ConfigError("PORTAL_PUBLIC_URL is required in production".into())),
            None => url::Url::parse(&format!("http://{site_addr}")).expect("socket address makes a URL"),
        };
        let local = matches!(public_url.host_str(), Some("localhost") | Some("127.0.0.1") | Some("[::1]"));
        let https = public_url.scheme() == "https";
        if production && !https && !local {
            return Err(ConfigError("PORTAL_PUBLIC_URL must be https:// in production: cookies must be Secure".into()));
        }
        let sessions = SessionPolicy {
            idle_timeout: secs(var, "PORTAL_IDLE_TIMEOUT_SECS", 15 * 60)?,
            idle_warning: secs(var, "PORTAL_IDLE_WARNING_SECS", 60)?,
            absolute_timeout: secs(var, "PORTAL_ABSOLUTE_TIMEOUT_SECS", 12 * 3600)?,
        };
        if sessions.idle_timeout < Duration::from_secs(10) || sessions.idle_warning >= sessions.idle_timeout {
            return Err(ConfigError("PORTAL_IDLE_TIMEOUT_SECS must be at least 10 and longer than PORTAL_IDLE_WARNING_SECS".into()));
        }
        if sessions.absolute_timeout < sessions.idle_timeout {
            return Err(ConfigError("PORTAL_ABSOLUTE_TIMEOUT_SECS must not be shorter than the idle timeout".into()));
        }
        let organisation = Organisation {
            name: var("PORTAL_ORGANISATION_NAME").unwrap_or_else(|| "Riverside Community Clinic".into()),
            phone: var("PORTAL_ORGANISATION_PHONE").unwrap_or_else(|| "(555) 010-0100".into()),
            // Lines separated by semicolons: "100 Riverside Drive; Riverside, ST 00000".
            address: var("PORTAL_ORGANISATION_ADDRESS")
                .unwrap_or_else(|| "100 Riverside Drive; Riverside, ST 00000".into())
                .split(';')
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            privacy_notice: match var("PORTAL_PRIVACY_NOTICE_FILE") {
                None => None,
                Some(path) => Some(read_privacy_notice(&path)?),
            },
        };
        let mail = match var("PORTAL_SMTP_HOST") {
            Some(host) => MailConfig::Smtp(SmtpConfig {
                host,
                port: match var("PORTAL_SMTP_PORT") {
                    Some(p) => p.parse().map_err(|_| ConfigError(format!("PORTAL_SMTP_PORT is not a port: {p:?}")))?,
                    None => 587,
                },
                tls: match var("PORTAL_SMTP_TLS").as_deref() {
                    None | Some("starttls") => SmtpTls::StartTls,
                    Some("tls") => SmtpTls::Tls,
                    Some("none") => SmtpTls::None,
                    Some(other) => return Err(ConfigError(format!("PORTAL_SMTP_TLS must be starttls, tls or none, not {other:?}"))),
                },
                username: var("PORTAL_SMTP_USERNAME"),
                password: var("PORTAL_SMTP_PASSWORD"),
            }),
            None if production => return Err(ConfigError("PORTAL_SMTP_HOST is required in production".into())),
            None => MailConfig::Drop(var("PORTAL_MAIL_DROP_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("mail"))),
        };
        if production {
            if let MailConfig::Smtp(SmtpConfig { tls: SmtpTls::None, host, .. }) = &mail {
                if host != "localhost" && host != "127.0.0.1" {
                    return Err(ConfigError("PORTAL_SMTP_TLS=none is only allowed for a relay on localhost in production".into()));
                }
            }
        }
        let mail_from = var("PORTAL_MAIL_FROM").unwrap_or_else(|| {
            let host = public_url.host_str().unwrap_or("localhost");
            format!("{} <no-reply@{}>", organisation.name, host)
        });
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError(format!("PORTAL_MAIL_FROM is not an e-mail address: {mail_from:?}")));
        }
        let defaults = AccountPolicy::default();
        let days = |name: &str, default: Duration| -> Result<Duration, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(d) if d > 0 => Ok(Duration::from_secs(d * 86_400)),
                    _ => Err(ConfigError(format!("{name} must be a whole number of days, at least 1, not {v:?}"))),
                },
            }
        };
        let accounts = AccountPolicy {
            password_max_age: days("PORTAL_PASSWORD_MAX_AGE_DAYS", defaults.password_max_age)?,
            password_change_mandatory: flag(var, "PORTAL_PASSWORD_CHANGE_MANDATORY")?,
            activation_code_lifetime: days("PORTAL_ACTIVATION_CODE_DAYS", defaults.activation_code_lifetime)?,
            activation_code_tries: match var("PORTAL_ACTIVATION_CODE_TRIES") {
                None => defaults.activation_code_tries,
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(n) if (1..=20).contains(&n) => n,
                    _ => return Err(ConfigError(format!("PORTAL_ACTIVATION_CODE_TRIES must be 1 to 20, not {v:?}"))),
                },
            },
            link_lifetime: {
                let d = secs(var, "PORTAL_LINK_LIFETIME_SECS", defaults.link_lifetime.as_secs())?;
                if d < Duration::from_secs(60) || d > Duration::from_secs(24 * 3600) {
                    return Err(ConfigError("PORTAL_LINK_LIFETIME_SECS must be between 60 and 86400".into()));
                }
                d
            },
        };
        let messaging = {
            let defaults = MessagingPolicy::default();
            let clock = |name: &str, default: jiff::civil::Time| -> Result<jiff::civil::Time, ConfigError> {
                match var(name) {
                    None => Ok(default),
                    Some(v) => {
                        jiff::civil::Time::strptime("%H:%M", v.trim()).map_err(|_| ConfigError(format!("{name} must be a time of day like 17:00, not {v:?}")))
                    }
                }
            };
            MessagingPolicy {
                time_zone: match var("PORTAL_TIME_ZONE") {
                    None => defaults.time_zone,
                    Some(z) => jiff::tz::TimeZone::get(z.trim())
                        .map_err(|_| ConfigError(format!("PORTAL_TIME_ZONE is not a time zone name like America/Chicago: {z:?}")))?,
                },
                reply_business_days: match var("PORTAL_REPLY_BUSINESS_DAYS") {
                    None => defaults.reply_business_days,
                    Some(v) => match v.trim().parse::<u32>() {
                        Ok(n) if (1..=30).contains(&n) => n,
                        _ => return Err(ConfigError(format!("PORTAL_REPLY_BUSINESS_DAYS must be 1 to 30, not {v:?}"))),
                    },
                },
                business_day_closes: clock("PORTAL_BUSINESS_DAY_CLOSES", defaults.business_day_closes)?,
                daily_notice_at: clock("PORTAL_DAILY_NOTICE_AT", defaults.daily_notice_at)?,
                messages_per_day: match var("PORTAL_PATIENT_MESSAGES_PER_DAY") {
                    None => defaults.messages_per_day,
                    Some(v) => match v.trim().parse::<u32>() {
                        Ok(n) if (1..=1000).contains(&n) => n,
                        _ => return Err(ConfigError(format!("PORTAL_PATIENT_MESSAGES_PER_DAY must be 1 to 1000, not {v:?}"))),
                    },
                },
                attachment_bytes_per_month: match var("PORTAL_PATIENT_ATTACHMENT_MB_PER_MONTH") {
                    None => defaults.attachment_bytes_per_month,
                    Some(v) => match v.trim().parse::<u64>() {
                        Ok(n) if (1..=100_000).contains(&n) => n * 1024 * 1024,
                        _ => return Err(ConfigError(format!("PORTAL_PATIENT_ATTACHMENT_MB_PER_MONTH must be 1 to 100000 (megabytes), not {v:?}"))),
                    },
                },
            }
        };
        let db_max_connections = match var("PORTAL_DB_MAX_CONNECTIONS") {
            Some(n) => n.parse().map_err(|_| ConfigError(format!("PORTAL_DB_MAX_CONNECTIONS must be a number, not {n:?}")))?,
            None => 16,
        };
        Ok(Config {
            portal: PortalSettings {
                public_url,
                secure_cookies: https,
                production,
                organisation,
                sessions,
                throttle: ThrottlePolicy::default(),
                accounts,
                messaging,
                mail_from,
                record: record_settings(var, production)?,
            },
            database_url,
            db_max_connections,
            secrets_key_file: var("PORTAL_SECRETS_KEY_FILE").map(PathBuf::from).unwrap_or_else(|| data_dir.join("secrets.key")),
            data_dir,
            mail,
            trust_proxy: flag(var, "PORTAL_TRUST_PROXY")?,
            log_json: var("PORTAL_LOG_FORMAT").as_deref() == Some("json"),
            metrics_addr: match var("PORTAL_METRICS_ADDR") {
                None => None,
                Some(a) => {
                    Some(a.trim().parse().map_err(|_| ConfigError(format!("PORTAL_METRICS_ADDR must be an address and port like 127.0.0.1:9187, not {a:?}")))?)
                }
            },
            shutdown_grace: secs(var, "PORTAL_SHUTDOWN_GRACE_SECS", 20)?,
            shutdown_delay: secs(var, "PORTAL_SHUTDOWN_DELAY_SECS", 0)?,
            clock: app::platform::clock::Clock::system(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup("127.0.0.1:3000".parse().unwrap(), &move |name| map.get(name).cloned())
    }

    #[test]
    fn development_runs_with_no_settings_at_all() {
        let c = config(&[]).unwrap();
        assert_eq!(c.portal.public_url.as_str(), "http://127.0.0.1:3000/");
        assert!(!c.portal.secure_cookies);
        assert_eq!(c.database_url, "sqlite://data/portal.db");
        assert!(matches!(c.mail, MailConfig::Drop(_)));
        assert_eq!(c.portal.sessions.idle_timeout, Duration::from_secs(900));
        assert_eq!(c.portal.sessions.absolute_timeout, Duration::from_secs(12 * 3600));
        assert_eq!(c.portal.accounts.password_max_age, Duration::from_secs(180 * 86_400));
        assert!(!c.portal.accounts.password_change_mandatory);
        assert_eq!(c.portal.accounts.link_lifetime, Duration::from_secs(30 * 60));
        assert_eq!(c.metrics_addr, None);
        assert_eq!(c.shutdown_grace, Duration::from_secs(20));
        assert_eq!(c.shutdown_delay, Duration::ZERO);
    }

    #[test]
    fn production_refuses_insecure_settings() {
        let err = |pairs: &[(&str, &str)]| config(pairs).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(&[("PORTAL_MODE", "production")]).contains("PORTAL_PUBLIC_URL is required"));
        assert!(err(&[("PORTAL_MODE", "production"), ("PORTAL_PUBLIC_URL", "http://portal.example.org")]).contains("https"));
        assert!(err(&[("PORTAL_MODE", "production"), ("PORTAL_PUBLIC_URL", "https://portal.example.org")]).contains("PORTAL_SMTP_HOST"));
        assert!(err(&[
            ("PORTAL_MODE", "production"),
            ("PORTAL_PUBLIC_URL", "https://portal.example.org"),
            ("PORTAL_SMTP_HOST", "relay.example.org"),
            ("PORTAL_SMTP_TLS", "none"),
        ])
        .contains("PORTAL_SMTP_TLS=none"));
        let ok =
            config(&[("PORTAL_MODE", "production"), ("PORTAL_PUBLIC_URL", "https://portal.example.org"), ("PORTAL_SMTP_HOST", "relay.example.org")]).unwrap();
        assert!(ok.portal.secure_cookies && ok.portal.production);
        assert_eq!(ok.portal.session_cookie_name(), "__Host-portal_session");
    }

    #[test]
    fn nonsense_is_refused_with_the_setting_named() {
        let e = config(&[("PORTAL_IDLE_TIMEOUT_SECS", "soon")]).unwrap_err().to_string();
        assert!(e.contains("PORTAL_IDLE_TIMEOUT_SECS"), "{e}");
        let e = config(&[("PORTAL_IDLE_TIMEOUT_SECS", "30"), ("PORTAL_IDLE_WARNING_SECS", "60")]).unwrap_err().to_string();
        assert!(e.contains("longer than"), "{e}");
        let e = config(&[("PORTAL_PASSWORD_MAX_AGE_DAYS", "0")]).unwrap_err().to_string();
        assert!(e.contains("PORTAL_PASSWORD_MAX_AGE_DAYS"), "{e}");
        let e = config(&[("PORTAL_ACTIVATION_CODE_TRIES", "100")]).unwrap_err().to_string();
        assert!(e.contains("PORTAL_ACTIVATION_CODE_TRIES"), "{e}");
        let e = config(&[("PORTAL_MODE", "staging")]).unwrap_err().to_string();
        assert!(e.contains("PORTAL_MODE"), "{e}");
        let e = config(&[("PORTAL_MAIL_FROM", "not an address")]).unwrap_err().to_string();
        assert!(e.contains("PORTAL_MAIL_FROM"), "{e}");
        let e = config(&[("PORTAL_METRICS_ADDR", "9187")]).unwrap_err().to_string();
        assert!(e.contains("PORTAL_METRICS_ADDR"), "{e}");
        let e = config(&[("PORTAL_SHUTDOWN_GRACE_SECS", "-1")]).unwrap_err().to_string();
        assert!(e.contains("PORTAL_SHUTDOWN_GRACE_SECS"), "{e}");
        let c = config(&[("PORTAL_METRICS_ADDR", "127.0.0.1:9187"), ("PORTAL_SHUTDOWN_GRACE_SECS", "5")]).unwrap();
        assert_eq!(c.metrics_addr, Some("127.0.0.1:9187".parse().unwrap()));
        assert_eq!(c.shutdown_grace, Duration::from_secs(5));
        for (name, bad) in
            [("PORTAL_PATIENT_MESSAGES_PER_DAY", "0"), ("PORTAL_PATIENT_MESSAGES_PER_DAY", "lots"), ("PORTAL_PATIENT_ATTACHMENT_MB_PER_MONTH", "0")]
        {
            let e = config(&[(name, bad)]).unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
        }
    }

    #[test]
    fn patients_message_limits_have_defaults_and_settings() {
        let m = config(&[]).unwrap().portal.messaging;
        assert_eq!((m.messages_per_day, m.attachment_bytes_per_month), (20, 50 * 1024 * 1024));
        let m = config(&[("PORTAL_PATIENT_MESSAGES_PER_DAY", "5"), ("PORTAL_PATIENT_ATTACHMENT_MB_PER_MONTH", "200")]).unwrap().portal.messaging;
        assert_eq!((m.messages_per_day, m.attachment_bytes_per_month), (5, 200 * 1024 * 1024));
    }

    #[test]
    fn the_record_cache_is_sized_in_megabytes_and_can_be_turned_off() {
        assert_eq!(config(&[]).unwrap().portal.record.cache_bytes, 256 << 20);
        assert_eq!(config(&[("PORTAL_RECORD_CACHE_MB", "0")]).unwrap().portal.record.cache_bytes, 0);
        assert_eq!(config(&[("PORTAL_RECORD_CACHE_MB", " 64 ")]).unwrap().portal.record.cache_bytes, 64 << 20);
        for bad in ["-1", "lots", "1e3", "70000"] {
            assert!(config(&[("PORTAL_RECORD_CACHE_MB", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_remote_record_source_needs_its_url_client_and_a_key_that_signs() {
        use app::record::settings::SourceSettings;
        assert!(matches!(config(&[]).unwrap().portal.record.source, SourceSettings::Embedded), "embedded by default");
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("portal.pem");
        std::fs::write(&key, openssl::rsa::Rsa::generate(2048).unwrap().private_key_to_pem().unwrap()).unwrap();
        let key = key.to_str().unwrap();
        let full = [
            ("PORTAL_RECORD_SOURCE", "remote"),
            ("PORTAL_FHIR_BASE_URL", "https://ehr.example.org/fhir"),
            ("PORTAL_FHIR_CLIENT_ID", "portal"),
            ("PORTAL_FHIR_KEY_FILE", key),
            ("PORTAL_FHIR_KEY_ID", "k1"),
        ];
        let c = config(&full).unwrap();
        let SourceSettings::Remote(r) = &c.portal.record.source else { panic!("remote") };
        assert_eq!(r.timeout, Duration::from_secs(10));
        assert_eq!(r.key.alg(), app::record::smart::Alg::Rs384);
        for missing in ["PORTAL_FHIR_BASE_URL", "PORTAL_FHIR_CLIENT_ID", "PORTAL_FHIR_KEY_FILE", "PORTAL_FHIR_KEY_ID"] {
            let without: Vec<(&str, &str)> = full.iter().copied().filter(|(k, _)| *k != missing).collect();
            let e = config(&without).unwrap_err().to_string();
            assert!(e.contains(missing) && e.contains("required"), "{e}");
        }
        let not_a_key = dir.path().join("not-a-key.pem");
        std::fs::write(&not_a_key, "hello").unwrap();
        let mut bad = full.to_vec();
        bad[3] = ("PORTAL_FHIR_KEY_FILE", not_a_key.to_str().unwrap());
        assert!(config(&bad).unwrap_err().to_string().contains("cannot sign"));
        bad[3] = ("PORTAL_FHIR_KEY_FILE", "/nonexistent/portal.pem");
        assert!(config(&bad).unwrap_err().to_string().contains("cannot be read"));
        // In production the record travels only over TLS.
        let mut plain = full.to_vec();
        plain[1] = ("PORTAL_FHIR_BASE_URL", "http://ehr.example.org/fhir");
        plain.extend([("PORTAL_MODE", "production"), ("PORTAL_PUBLIC_URL", "https://portal.example.org"), ("PORTAL_SMTP_HOST", "relay.example.org")]);
        assert!(config(&plain).unwrap_err().to_string().contains("https"));
        // FHIR settings with the embedded source are a mistake, not silently ignored.
        let e = config(&[("PORTAL_FHIR_BASE_URL", "https://ehr.example.org/fhir")]).unwrap_err().to_string();
        assert!(e.contains("PORTAL_RECORD_SOURCE"), "{e}");
        assert!(config(&[("PORTAL_RECORD_SOURCE", "ehr")]).unwrap_err().to_string().contains("embedded or remote"));
    }

    #[test]
    fn the_privacy_notice_file_is_read_at_start() {
        assert_eq!(config(&[]).unwrap().portal.organisation.privacy_notice, None, "none: the sample notice");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notice.md");
        std::fs::write(&file, "# Our notice\n\nText.").unwrap();
        let c = config(&[("PORTAL_PRIVACY_NOTICE_FILE", file.to_str().unwrap())]).unwrap();
        assert_eq!(c.portal.organisation.privacy_notice.as_deref(), Some("# Our notice\n\nText."));
        let missing = dir.path().join("missing.md");
        let e = config(&[("PORTAL_PRIVACY_NOTICE_FILE", missing.to_str().unwrap())]).unwrap_err().to_string();
        assert!(e.contains("PORTAL_PRIVACY_NOTICE_FILE"), "{e}");
        std::fs::write(&file, "  \n").unwrap();
        assert!(config(&[("PORTAL_PRIVACY_NOTICE_FILE", file.to_str().unwrap())]).is_err(), "an empty notice stops the start");
    }
}
