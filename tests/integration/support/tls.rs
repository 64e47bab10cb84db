//! Certificates for the TLS tests (Postgres and Kafka over TLS, issue 35):
//! made with the `openssl` command, which the tests fail without.

use std::path::Path;
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let mut command = Command::new("openssl");
    command.args(args).current_dir(dir);
    super::run_ok(
        command,
        &format!("openssl {} (install openssl)", args.join(" ")),
    );
}

/// A CA named `name` (`<name>.key`, `<name>.pem`) in `dir`.
fn certificate_authority(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-subj",
            &format!("/CN={name}"),
        ],
    );
}

/// In `dir`: the CA `bank-ca.pem`, a server certificate for 127.0.0.1 and
/// localhost it signed (`server.pem`, `server.key`), and a CA nothing was
/// signed by, `unknown-ca.pem`.
pub fn certificates(dir: &Path) {
    certificate_authority(dir, "bank-ca");
    certificate_authority(dir, "unknown-ca");
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "bank-ca.pem",
            "-CAkey",
            "bank-ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.cnf",
            "-out",
            "server.pem",
        ],
    );
}
