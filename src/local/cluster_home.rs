//! Where an embedded PostgreSQL cluster lives, and the password that guards it.
//!
//! A cluster directory (the `data_dir` a caller asks for) holds two things: `pgdata/`, the
//! server's own data directory, and `password`, the superuser's password, drawn at random when
//! the cluster is created and readable only by the server's user (0600). The server accepts
//! connections only with that password (scram-sha-256, on 127.0.0.1; no Unix socket).
//!
//! Run by a normal user, the server runs as that user and the cluster directory is where it was
//! asked for. Run by root, PostgreSQL must run as the `postgres` user, which usually cannot
//! reach a directory under `/root` or a 0700 temporary directory. Rather than loosening the
//! permissions of anything above the cluster, the cluster then lives in a directory created for
//! it and owned by `postgres`, `/var/tmp/jobboard-postgres/<name>-<hash of the asked path>`,
//! inside a 0700 parent owned by `postgres`; the asked path becomes a symbolic link to it. Only
//! root (and `postgres`) can enter it; nothing outside it changes mode or owner.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tracing::info;

use super::LocalError;

/// The server's data directory, inside the cluster directory.
const PGDATA: &str = "pgdata";
/// The superuser's password, inside the cluster directory.
const PASSWORD_FILE: &str = "password";
/// Where clusters live when we run as root: a directory owned by `postgres`, 0700, under a
/// world-traversable `/var/tmp` (kept across reboots, unlike `/run` or `/tmp` on many systems).
pub const ROOT_CLUSTERS: &str = "/var/tmp/jobboard-postgres";

/// The unprivileged user the server runs as when we are root.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerUser {
    /// Its uid.
    pub uid: u32,
    /// Its primary gid.
    pub gid: u32,
}

/// The superuser's password. Its `Debug` never shows it, so it cannot leak into a log.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Password(String);

impl Password {
    /// The password itself, for a connection.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A prepared cluster directory.
#[derive(Debug)]
pub(crate) struct ClusterHome {
    /// The cluster directory, absolute, symlinks resolved (what an ephemeral cluster removes).
    pub dir: PathBuf,
    /// The server's data directory inside it (what the server reports as `data_directory`).
    pub pgdata: PathBuf,
}

impl ClusterHome {
    /// Creates (or finds) the cluster directory for `requested`, owned by the server's user,
    /// mode 0700. As root it lives under [`ROOT_CLUSTERS`] and `requested` links to it.
    ///
    /// # Errors
    /// [`LocalError::UnsafeClusterDir`] when a directory on the way belongs to someone else or
    /// `requested` is a cluster of an older jobboard; [`LocalError::Io`] on a file-system error.
    pub fn prepare(requested: &Path, user: Option<ServerUser>) -> Result<ClusterHome, LocalError> {
        let dir = match user {
            None => {
                create_private_dir(requested, None)?;
                std::fs::canonicalize(requested).map_err(io_error("resolving", requested))?
            }
            Some(user) => relocate_for(requested, user)?,
        };
        if dir.join("PG_VERSION").is_file() {
            return Err(LocalError::UnsafeClusterDir {
                path: dir,
                reason: "it holds a cluster made by an older jobboard without a password: delete it \
                         (`make dev-reset` for the dev stack)",
            });
        }
        let pgdata = dir.join(PGDATA);
        Ok(ClusterHome { dir, pgdata })
    }

    /// Whether the server's data directory holds a cluster yet.
    pub fn is_initialised(&self) -> bool {
        self.pgdata.join("PG_VERSION").is_file()
    }

    /// The file initdb reads the password from.
    pub fn password_file(&self) -> PathBuf {
        self.dir.join(PASSWORD_FILE)
    }

    /// Draws a new password and writes it (0600, owned by the server's user) for initdb, and
    /// clears what a failed earlier initdb may have left in the data directory.
    ///
    /// # Errors
    /// [`LocalError::Io`] if the file cannot be written, [`LocalError::Io`] if no randomness.
    pub fn new_password(&self, user: Option<ServerUser>) -> Result<Password, LocalError> {
        if self.pgdata.exists() {
            std::fs::remove_dir_all(&self.pgdata).map_err(io_error("clearing", &self.pgdata))?;
        }
        let bytes = alloy::primitives::B256::try_random().map_err(|e| LocalError::Io {
            action: "drawing a password for PostgreSQL".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let password = Password(alloy::hex::encode(bytes));
        self.write_password(&password, user)?;
        Ok(password)
    }

    /// Writes `password` as the cluster's (0600, owned by the server's user): a standby's,
    /// which is its primary's, since the base backup copies the roles.
    ///
    /// # Errors
    /// [`LocalError::Io`] if the file cannot be written.
    pub fn write_password(&self, password: &Password, user: Option<ServerUser>) -> Result<(), LocalError> {
        let path = self.password_file();
        let _ = std::fs::remove_file(&path);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, password.as_str().as_bytes()))
            .map_err(io_error("writing", &path))?;
        if let Some(user) = user {
            std::os::unix::fs::lchown(&path, Some(user.uid), Some(user.gid))
                .map_err(io_error("handing to the postgres user", &path))?;
        }
        Ok(())
    }

    /// The password of an existing cluster.
    ///
    /// # Errors
    /// [`LocalError::Io`] if the file is missing or unreadable.
    pub fn password(&self) -> Result<Password, LocalError> {
        let path = self.password_file();
        let text =
            std::fs::read_to_string(&path).map_err(io_error("reading the PostgreSQL password", &path))?;
        Ok(Password(text.trim().to_owned()))
    }
}

/// Root's cluster directory for `requested`: `ROOT_CLUSTERS/<name>-<hash>`, with `requested`
/// a symbolic link to it.
fn relocate_for(requested: &Path, user: ServerUser) -> Result<PathBuf, LocalError> {
    let name = requested.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let parent = match requested.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_error("creating", &parent))?;
    let parent = std::fs::canonicalize(&parent).map_err(io_error("resolving", &parent))?;
    let asked = parent.join(&name);
    let digest = Sha256::digest(asked.as_os_str().as_encoded_bytes());
    let safe: String =
        name.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).take(32).collect();
    let root = Path::new(ROOT_CLUSTERS);
    create_private_dir(root, Some(user))?;
    let dir = root.join(format!("{safe}-{}", alloy::hex::encode(&digest[..8])));
    create_private_dir(&dir, Some(user))?;

    match std::fs::symlink_metadata(&asked) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let target = std::fs::read_link(&asked).map_err(io_error("reading the link", &asked))?;
            if target != dir {
                return Err(LocalError::UnsafeClusterDir {
                    path: asked,
                    reason: "it links somewhere other than where its cluster lives: remove the link",
                });
            }
        }
        Ok(meta) if meta.is_dir() => {
            if std::fs::read_dir(&asked).map_err(io_error("listing", &asked))?.next().is_some() {
                return Err(LocalError::UnsafeClusterDir {
                    path: asked,
                    reason: "it holds a cluster made by an older jobboard (kept in place, with \
                             password-less access): delete it (`make dev-reset` for the dev stack)",
                });
            }
            std::fs::remove_dir(&asked).map_err(io_error("replacing by a link", &asked))?;
            link(&dir, &asked)?;
        }
        Ok(_) => {
            return Err(LocalError::UnsafeClusterDir {
                path: asked,
                reason: "it is a file, not a directory",
            });
        }
        Err(_) => link(&dir, &asked)?,
    }
    Ok(dir)
}

fn link(target: &Path, at: &Path) -> Result<(), LocalError> {
    info!(link = %at.display(), cluster = %target.display(), "the cluster lives where the postgres user can reach it");
    std::os::unix::fs::symlink(target, at).map_err(io_error("linking", at))
}

/// Creates `dir` (mode 0700, owned by `user` when given) or checks that the existing one is a
/// real directory of that owner that nobody else can enter: under a world-writable `/var/tmp`,
/// anyone could have made it first.
fn create_private_dir(dir: &Path, user: Option<ServerUser>) -> Result<(), LocalError> {
    let created = match std::fs::DirBuilder::new().recursive(user.is_none()).mode(0o700).create(dir) {
        Ok(()) => true,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(error) => return Err(io_error("creating", dir)(error)),
    };
    let meta = std::fs::symlink_metadata(dir).map_err(io_error("reading", dir))?;
    if !meta.is_dir() {
        return Err(LocalError::UnsafeClusterDir {
            path: dir.to_owned(),
            reason: "it is not a real directory",
        });
    }
    if let Some(user) = user {
        if created {
            std::os::unix::fs::lchown(dir, Some(user.uid), Some(user.gid))
                .map_err(io_error("handing to the postgres user", dir))?;
        } else if meta.uid() != user.uid {
            return Err(LocalError::UnsafeClusterDir {
                path: dir.to_owned(),
                reason: "it belongs to another user than postgres: remove it",
            });
        }
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_error("making private (0700)", dir))?;
    }
    Ok(())
}

/// Deletes a cluster directory made by [`ClusterHome::prepare`]: the directory, or, as root,
/// the link and the directory under [`ROOT_CLUSTERS`] it points to. The server must be stopped.
///
/// # Errors
/// [`LocalError::UnsafeClusterDir`] for a link that points outside [`ROOT_CLUSTERS`];
/// [`LocalError::Io`] if deleting fails.
pub fn remove_cluster(requested: &Path) -> Result<(), LocalError> {
    let Ok(meta) = std::fs::symlink_metadata(requested) else { return Ok(()) };
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(requested).map_err(io_error("reading the link", requested))?;
        if target.parent() != Some(Path::new(ROOT_CLUSTERS)) {
            return Err(LocalError::UnsafeClusterDir {
                path: requested.to_owned(),
                reason: "it links outside /var/tmp/jobboard-postgres; not deleting what it points to",
            });
        }
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(io_error("deleting", &target))?;
        }
        std::fs::remove_file(requested).map_err(io_error("deleting", requested))?;
    } else {
        std::fs::remove_dir_all(requested).map_err(io_error("deleting", requested))?;
    }
    Ok(())
}

fn io_error(action: &str, path: &Path) -> impl FnOnce(std::io::Error) -> LocalError {
    let action = format!("{action} {}", path.display());
    move |source| LocalError::Io { action, source }
}
