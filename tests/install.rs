//! What a FreeBSD administrator installs, against the sources it comes
//! from: `make install` and `make uninstall` under every make present
//! (FreeBSD's bmake and GNU make), the port's pkg-plist against what
//! `make install` puts down, the port's rc script against rc.d/lagghook,
//! the rc.d script run through a stub rc.subr, and the sample
//! configuration against the fixture the tests and CI use; and README's
//! install steps: commands that exist, in an order that works.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lagghook::cli::args::{self, Command as CliCommand};
use lagghook::domain::config::{self, Config};

use crate::support::Sandbox;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const PORT: &str = "port/sysutils/lagghook";

/// The value of a `NAME=<tab>value` line of the port's Makefile, without a
/// trailing comment.
fn make_variable(makefile: &str, name: &str) -> String {
    let prefix = format!("{name}=");
    let line = makefile
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name}= line"));
    line.split('#').next().unwrap_or("").trim().to_owned()
}

/// The files a package of the port holds, relative to PREFIX, as `make
/// install` names them: pkg-plist with `@sample` reduced to its file,
/// man pages without the `.gz` the ports framework adds, `%%EXAMPLESDIR%%`
/// expanded, plus the USE_RC_SUBR scripts, which the framework adds to the
/// plist itself.
fn port_files() -> Vec<String> {
    let makefile = read(&format!("{PORT}/Makefile"));
    let mut files: Vec<String> = read(&format!("{PORT}/pkg-plist"))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("@comment"))
        .map(|l| {
            let l = l.strip_prefix("@sample ").unwrap_or(l);
            assert!(!l.starts_with('@'), "pkg-plist keyword this test does not know: {l}");
            let l = l.replace("%%EXAMPLESDIR%%", "share/examples/lagghook");
            assert!(!l.contains("%%"), "pkg-plist substitution this test does not know: {l}");
            match l.strip_suffix(".gz") {
                Some(man) if man.starts_with("share/man/") => man.to_owned(),
                _ => l,
            }
        })
        .collect();
    for script in make_variable(&makefile, "USE_RC_SUBR").split_whitespace() {
        files.push(format!("etc/rc.d/{script}"));
    }
    files.sort();
    files
}

/// Every regular file under `dir`, relative to it, with its permission
/// bits.
fn tree(dir: &Path) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, meta.permissions().mode() & 0o7777);
            }
        }
    }
    out
}

/// `make_program` run in the source tree with `args`, in an environment
/// that sets none of the Makefile's variables. `None` if it is not
/// installed.
fn make(make_program: &str, args: &[String]) -> Option<Output> {
    let mut command = Command::new(make_program);
    command.arg("-C").arg(root()).args(args);
    for var in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PREFIX", "DESTDIR", "BINARY", "INSTALL"] {
        command.env_remove(var);
    }
    match command.output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("{make_program}: {e}"),
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The makes to try: FreeBSD's (bmake; plain `make` on FreeBSD) and GNU
/// make (`make` on Debian, `gmake` on FreeBSD). CI installs bmake, so
/// there a missing bmake is a failure, not a skip.
const MAKES: &[&str] = &["bmake", "make", "gmake"];

/// Proves `make install DESTDIR=… ` puts down exactly the files the
/// port's package holds (pkg-plist mapped as [`port_files`] says), with
/// BSD modes, copied from the right sources (nothing from tests/, the
/// devd rules only as an example, never into etc/devd), and that `make
/// uninstall` takes every one of them away again; under each make found.
#[test]
fn make_install_puts_down_the_ports_files_and_uninstall_removes_them() {
    let sb = Sandbox::new("make-install");
    let binary = env!("CARGO_BIN_EXE_lagghook");
    let wanted = port_files();
    let mut ran = Vec::new();
    for program in MAKES {
        let destdir = sb.path(program);
        let install = [
            format!("DESTDIR={}", destdir.display()),
            format!("BINARY={binary}"),
            "install".into(),
        ];
        let Some(out) = make(program, &install) else { continue };
        assert!(out.status.success(), "{program} install:\n{}", text(&out));
        ran.push(*program);

        let prefix = destdir.join("usr/local");
        let installed = tree(&destdir);
        let got: Vec<String> = installed
            .keys()
            .map(|k| {
                k.strip_prefix("usr/local/")
                    .unwrap_or_else(|| panic!("{program}: {k} is outside PREFIX"))
                    .to_owned()
            })
            .collect();
        assert_eq!(got, wanted, "{program}: make install (left) vs the port's files (right)");

        let mode = |rel: &str| installed[&format!("usr/local/{rel}")];
        assert_eq!(mode("sbin/lagghook"), 0o555, "{program}");
        assert_eq!(mode("libexec/lagghook-devd"), 0o555, "{program}");
        assert_eq!(mode("etc/rc.d/lagghook"), 0o555, "{program}: rc scripts are 555");
        assert_eq!(mode("share/man/man8/lagghook.8"), 0o444, "{program}");
        assert_eq!(mode("etc/lagghook.toml.sample"), 0o644, "{program}");

        let same = |installed: &str, source: &str| {
            let a = std::fs::read(prefix.join(installed)).unwrap();
            let b = std::fs::read(root().join(source)).unwrap();
            assert!(a == b, "{program}: {installed} is not {source}");
        };
        same("sbin/lagghook", binary);
        same("libexec/lagghook-devd", env!("CARGO_BIN_EXE_lagghook-devd"));
        same("share/man/man8/lagghook.8", "man/lagghook.8");
        same("share/man/man5/lagghook.toml.5", "man/lagghook.toml.5");
        same("etc/lagghook.toml.sample", "lagghook.toml.sample");
        same("share/examples/lagghook/lagghook.conf", "devd/lagghook.conf");
        // With the default PREFIX the rc script is installed unchanged.
        same("etc/rc.d/lagghook", "rc.d/lagghook");

        let uninstall = [format!("DESTDIR={}", destdir.display()), "uninstall".into()];
        let out = make(program, &uninstall).unwrap_or_else(|| panic!("{program} vanished"));
        assert!(out.status.success(), "{program} uninstall:\n{}", text(&out));
        assert_eq!(tree(&destdir), BTreeMap::new(), "{program}: uninstall left files behind");
        assert!(!prefix.join("share/examples/lagghook").exists(), "{program}: examples dir left");
    }
    let must_have_bmake = std::env::var_os("CI").is_some() && !cfg!(target_os = "freebsd");
    if must_have_bmake {
        assert!(ran.contains(&"bmake"), "CI must run the Makefile under bmake; ran {ran:?}");
    }
    if ran.is_empty() {
        eprintln!("no make installed: make install not checked");
    }
}

/// Proves another PREFIX reaches the rc script's path to the program, so
/// the script installed under /opt runs the lagghook installed there.
#[test]
fn make_install_writes_prefix_into_the_rc_script() {
    let sb = Sandbox::new("make-prefix");
    let args = [
        format!("DESTDIR={}", sb.dir.display()),
        format!("BINARY={}", env!("CARGO_BIN_EXE_lagghook")),
        "PREFIX=/opt/lh".to_owned(),
        "install".to_owned(),
    ];
    let Some(out) = MAKES.iter().find_map(|m| make(m, &args)) else {
        eprintln!("no make installed: PREFIX not checked");
        return;
    };
    assert!(out.status.success(), "{}", text(&out));
    let script = std::fs::read_to_string(sb.path("opt/lh/etc/rc.d/lagghook")).unwrap();
    assert_eq!(script, read("rc.d/lagghook").replace("/usr/local", "/opt/lh"));
    assert!(script.contains("/opt/lh/sbin/lagghook "), "{script}");
    assert!(sb.path("opt/lh/sbin/lagghook").is_file());
    assert!(sb.path("opt/lh/libexec/lagghook-devd").is_file());
}

/// Proves `make install` does not build and does not half-install: with
/// no binary it fails, says to run make first, and writes nothing.
#[test]
fn make_install_without_a_build_installs_nothing() {
    let sb = Sandbox::new("make-nobin");
    let args = [
        format!("DESTDIR={}", sb.path("dest").display()),
        format!("BINARY={}", sb.path("missing/lagghook").display()),
        "install".to_owned(),
    ];
    let Some(out) = MAKES.iter().find_map(|m| make(m, &args)) else {
        eprintln!("no make installed: not checked");
        return;
    };
    assert!(!out.status.success());
    assert!(text(&out).contains("run make (as yourself) first"), "{}", text(&out));
    assert!(!sb.path("dest").exists(), "something was installed");
}

/// Proves the port's rc script is rc.d/lagghook with `%%PREFIX%%` for
/// /usr/local (what USE_RC_SUBR substitutes back), and that the port
/// names that script.
#[test]
fn port_rc_script_is_the_rc_d_script() {
    let port = read(&format!("{PORT}/files/lagghook.in"));
    let script = read("rc.d/lagghook");
    assert!(port.contains("%%PREFIX%%/sbin/lagghook"), "{port}");
    assert_eq!(port, script.replace("/usr/local", "%%PREFIX%%"));
    let makefile = read(&format!("{PORT}/Makefile"));
    assert_eq!(make_variable(&makefile, "USE_RC_SUBR"), "lagghook");
}

/// Proves the port builds this package: its version is Cargo.toml's, it
/// uses the cargo framework, and every source file its do-install names
/// exists here.
#[test]
fn port_makefile_matches_the_package() {
    let makefile = read(&format!("{PORT}/Makefile"));
    assert_eq!(make_variable(&makefile, "PORTNAME"), env!("CARGO_PKG_NAME"));
    assert_eq!(make_variable(&makefile, "DISTVERSION"), env!("CARGO_PKG_VERSION"));
    assert!(make_variable(&makefile, "USES").split_whitespace().any(|u| u == "cargo"));
    let sources: Vec<&str> =
        makefile.split_whitespace().filter_map(|w| w.strip_prefix("${WRKSRC}/")).collect();
    assert!(sources.len() >= 4, "do-install names its sources: {sources:?}");
    for source in sources {
        assert!(root().join(source).is_file(), "the port installs {source}, which is not here");
    }
    // The descriptions the ports framework requires exist and say something.
    for file in ["pkg-descr", "files/pkg-message.in", "pkg-plist"] {
        assert!(read(&format!("{PORT}/{file}")).trim().len() > 20, "{file} is empty");
    }
}

/// Proves the sample configuration is the fixture the tests, CI's devd
/// rules check and lagghook.toml(5) EXAMPLES use, so the devd rules
/// installed as its example are the ones for it.
#[test]
fn sample_config_is_the_fixture() {
    // The same path for both: a Config remembers where it was read from.
    let path = Path::new("lagghook.toml");
    let sample =
        Config::parse(&read("lagghook.toml.sample"), path).unwrap_or_else(|e| panic!("{e}"));
    let fixture = Config::parse(&read("tests/fixtures/config/good-laptop.toml"), path).unwrap();
    assert_eq!(sample, fixture);
}

/// rc.d/lagghook made runnable here: the stub rc.subr sourced instead of
/// /etc/rc.subr, and `prefix` instead of /usr/local, where the stub
/// lagghook that records its arguments is installed.
struct RcScript {
    sb: Sandbox,
    script: PathBuf,
}

impl RcScript {
    fn new(name: &str) -> RcScript {
        RcScript::of(name, &read("rc.d/lagghook"))
    }

    /// The port's rc script, as `USE_RC_SUBR` installs it with
    /// `%%PREFIX%%` made `/usr/local`.
    fn port(name: &str) -> RcScript {
        let text = read(&format!("{PORT}/files/lagghook.in")).replace("%%PREFIX%%", "/usr/local");
        RcScript::of(name, &text)
    }

    fn of(name: &str, source: &str) -> RcScript {
        let sb = Sandbox::new(name);
        let prefix = sb.path("prefix");
        std::fs::create_dir_all(prefix.join("sbin")).unwrap();
        let stub = prefix.join("sbin/lagghook");
        std::fs::copy(root().join("tests/fixtures/rc/lagghook"), &stub).unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(source.matches("\n. /etc/rc.subr\n").count(), 1, "sources rc.subr once");
        let text = source
            .replace(
                "\n. /etc/rc.subr\n",
                &format!("\n. {}\n", root().join("tests/fixtures/rc/rc.subr").display()),
            )
            .replace("/usr/local", &prefix.to_string_lossy());
        let script = sb.write("lagghook.rc", &text);
        sb.write("rc.conf", "");
        RcScript { sb, script }
    }

    fn rc_conf(&self, text: &str) {
        self.sb.write("rc.conf", text);
    }

    /// Runs `sh script arg` as rc and service(8) do; returns its exit
    /// status, its output, and the lagghook command lines it ran.
    fn run(&self, arg: &str) -> (Option<i32>, String, Vec<Vec<String>>) {
        self.run_with(arg, 0)
    }

    /// [`RcScript::run`] with the stub lagghook exiting `exit`.
    fn run_with(&self, arg: &str, exit: i32) -> (Option<i32>, String, Vec<Vec<String>>) {
        let log = self.sb.path("argv.log");
        let _ = std::fs::remove_file(&log);
        let out = Command::new("/bin/sh")
            .arg(&self.script)
            .arg(arg)
            .env("STUB_RC_CONF", self.sb.path("rc.conf"))
            .env("STUB_RC_VARS", self.sb.path("rc.vars"))
            .env("STUB_ARGV_LOG", &log)
            .env("STUB_EXIT", exit.to_string())
            .env_remove("flags")
            .output()
            .unwrap();
        let runs = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .split_terminator("\n\n")
            .map(|run| run.lines().map(str::to_owned).collect())
            .collect();
        (out.status.code(), text(&out), runs)
    }
}

fn reconcile() -> Vec<Vec<String>> {
    vec![vec!["reconcile".to_owned()]]
}

/// Proves the rc.d script is a one-shot: enabled, `start` (also as
/// `faststart` at boot and `restart`) and `resume` (what rc.resume runs)
/// each run `lagghook reconcile` once, `stop` runs nothing, and the script
/// names no process, pidfile or procname that rc could wait for.
#[test]
fn rc_script_runs_one_reconcile_on_start_and_resume() {
    let rc = RcScript::new("rc-enabled");
    rc.rc_conf("lagghook_enable=\"YES\"\n");
    for arg in ["start", "faststart", "resume", "restart"] {
        let (code, output, runs) = rc.run(arg);
        assert_eq!(code, Some(0), "{arg}: {output}");
        // rc.resume's run also starts the network check (issue 20).
        let (want, command) = match arg {
            "resume" => (vec![vec!["resume".to_owned()]], CliCommand::Resume),
            _ => (reconcile(), CliCommand::Reconcile),
        };
        assert_eq!(runs, want, "{arg}: {output}");
        let inv = args::parse(runs[0].iter().cloned()).unwrap();
        assert_eq!(inv.command, command, "{arg}: not a command lagghook takes");
    }
    let (code, output, runs) = rc.run("stop");
    assert_eq!((code, runs), (Some(0), vec![]), "stop: {output}");
    let vars = std::fs::read_to_string(rc.sb.path("rc.vars")).unwrap();
    assert_eq!(vars.trim(), "command= procname= pidfile=", "nothing stays running");
}

/// Issue 16, point 9: `service lagghook status`, what an administrator
/// types first, runs `lagghook status` once, enabled or not (rc.subr
/// offers `status` for a status_cmd and skips the rcvar check for it),
/// with lagghook_flags; it exits 0 on lagghook's 0 and 1 on anything else,
/// as rc.subr returns a failed command. The port's rc script alike.
#[test]
fn issue16_service_lagghook_status_runs_lagghook_status() {
    for (what, rc) in
        [("rc.d", RcScript::new("rc-status")), ("port", RcScript::port("rc-status-port"))]
    {
        let status = vec![vec!["status".to_owned()]];
        let (code, output, runs) = rc.run("status");
        assert_eq!((code, &runs), (Some(0), &status), "{what} disabled: {output}");
        rc.rc_conf("lagghook_enable=YES\nlagghook_flags=\"-c /etc/lh.toml\"\n");
        let (code, output, runs) = rc.run("status");
        assert_eq!(code, Some(0), "{what}: {output}");
        assert_eq!(runs, [["-c", "/etc/lh.toml", "status"]], "{what}: {output}");
        let inv = args::parse(runs[0].iter().cloned()).unwrap();
        assert_eq!(inv.command, CliCommand::Status, "{what}: not a command lagghook takes");
        for (lagghook, service) in [(1, 1), (2, 1), (3, 1), (78, 1)] {
            let (code, output, _) = rc.run_with("status", lagghook);
            assert_eq!(code, Some(service), "{what}: lagghook exits {lagghook}: {output}");
        }
        // The other directives still do what they did.
        let (code, _, runs) = rc.run("start");
        assert_eq!(code, Some(0), "{what}");
        assert_eq!(runs, [["-c", "/etc/lh.toml", "reconcile"]], "{what}");
    }
}

/// Issue 16, point 9, with the real lagghook under the rc script: on a
/// simulated laptop `service lagghook status` prints lagghook's verdict,
/// exits 0 while the laptop is converged and 1 once the WiFi card came
/// back with its factory address (degraded).
#[test]
fn issue16_service_lagghook_status_prints_the_verdict() {
    let rc = RcScript::new("rc-status-real");
    let lagghook = rc.sb.path("prefix/sbin/lagghook");
    std::fs::remove_file(&lagghook).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_lagghook"), &lagghook).unwrap();
    let config = rc.sb.write("config.toml", crate::support::LAPTOP_CONFIG);
    let machine = |text: &str| rc.sb.write("kernel.toml", text);
    let kernel = machine(&format!(
        "[machine]\nfailover_rx_all = 1\n{}",
        read("tests/fixtures/machines/laptop.toml")
    ));
    rc.rc_conf(&format!(
        "lagghook_flags=\"-c {} -k sim:{}\"\n",
        config.display(),
        kernel.display()
    ));
    let (code, output, _) = rc.run("status");
    assert_eq!(code, Some(0), "{output}");
    assert!(output.starts_with("lagg0: converged\n"), "{output}");
    machine(crate::support::MACHINE_WLAN_OUT);
    let (code, output, _) = rc.run("status");
    assert_eq!(code, Some(1), "{output}");
    assert!(output.starts_with("lagg0: degraded: "), "{output}");
}

/// Proves lagghook_flags reaches the command line, before `reconcile`.
#[test]
fn rc_script_passes_lagghook_flags() {
    let rc = RcScript::new("rc-flags");
    rc.rc_conf("lagghook_enable=YES\nlagghook_flags=\"-v -c /etc/lh.toml\"\n");
    let (code, output, runs) = rc.run("resume");
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(runs, vec![vec!["-v", "-c", "/etc/lh.toml", "resume"]], "{output}");
    let inv = args::parse(runs[0].iter().cloned()).unwrap();
    assert!(inv.verbose && inv.config == Path::new("/etc/lh.toml"));
}

/// Proves lagghook_enable defaults to NO: nothing runs on start or resume
/// (boot's faststart says nothing), and `onestart` runs it anyway.
#[test]
fn rc_script_is_off_until_enabled() {
    let rc = RcScript::new("rc-disabled");
    let (code, output, runs) = rc.run("start");
    assert_eq!((code, runs), (Some(0), vec![]), "{output}");
    assert!(output.contains("Set lagghook_enable to YES"), "{output}");
    let (_, output, runs) = rc.run("faststart");
    assert_eq!((output.as_str(), runs), ("", vec![]));
    let (_, _, runs) = rc.run("resume");
    assert!(runs.is_empty());
    let (code, output, runs) = rc.run("onestart");
    assert_eq!((code, runs), (Some(0), reconcile()), "{output}");
}

/// Proves the script's rcorder header: after netif and devd, in vnet
/// jails but not other jails, and called by rc.resume.
#[test]
fn rc_script_header() {
    let script = read("rc.d/lagghook");
    let header = |key: &str| -> Vec<String> {
        let prefix = format!("# {key}: ");
        let line = script.lines().find_map(|l| l.strip_prefix(&prefix));
        line.unwrap_or_else(|| panic!("no {key}")).split_whitespace().map(str::to_owned).collect()
    };
    assert_eq!(header("PROVIDE"), ["lagghook"]);
    assert_eq!(header("REQUIRE"), ["netif", "devd"]);
    assert_eq!(header("KEYWORD"), ["nojailvnet", "resume"]);
    assert!(script.starts_with("#!/bin/sh\n"));
    assert!(script.contains("\n: ${lagghook_enable:=\"NO\"}\n"), "enable defaults to NO");
}

/// The lines of README's ```sh blocks, in order, without the `# ` or `$ `
/// prompt that marks root and user commands.
fn readme_commands() -> Vec<String> {
    let readme = read("README.md");
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        let line = line.trim();
        if line == "```sh" {
            in_sh = true;
        } else if line.starts_with("```") {
            in_sh = false;
        } else if in_sh && !line.is_empty() {
            let command = line.strip_prefix("# ").or_else(|| line.strip_prefix("$ "));
            out.push(command.unwrap_or(line).to_owned());
        }
    }
    out
}

/// Proves README opens as the person trying it expects: the title, one
/// paragraph on what lagghook is and for whom, then exactly the two
/// commands that work anywhere (CI greps the second).
#[test]
fn readme_opens_with_what_it_is_and_the_two_commands() {
    let readme = read("README.md");
    let rest = readme.strip_prefix("# lagghook\n\n").expect("README starts with '# lagghook'");
    let (paragraph, rest) = rest.split_once("\n\n").unwrap();
    assert!(paragraph.contains("FreeBSD") && paragraph.contains("lagg"), "{paragraph}");
    assert!(!paragraph.starts_with('#') && !paragraph.starts_with('`'), "{paragraph}");
    assert!(
        rest.starts_with("```sh\ncargo run --release -- simulate\ncargo test\n```\n"),
        "the two commands follow the first paragraph:\n{rest}"
    );
}

/// Proves the prerequisites name the Rust that Cargo.toml requires.
#[test]
fn readme_names_the_minimum_rust() {
    let cargo: toml::Table = read("Cargo.toml").parse().unwrap();
    let version = cargo["package"]["rust-version"].as_str().expect("rust-version is set");
    let readme = read("README.md");
    assert!(readme.contains(&format!("Rust {version} or newer")), "README lacks Rust {version}");
    assert!(readme_commands().iter().any(|c| c == "pkg install rust"));
}

/// Proves every command README gives exists: each `lagghook` line is one
/// lagghook's parser accepts, each `make` target is in the Makefile, each
/// `service lagghook` directive and the `sysrc` variable are the rc.d
/// script's, and the devd rules go where lagghook(8) FILES (and `check`)
/// look for them.
#[test]
fn readme_commands_exist() {
    let makefile = read("Makefile");
    let script = read("rc.d/lagghook");
    let page = read("man/lagghook.8");
    let mut lagghook_lines = 0;
    for line in readme_commands() {
        let (command, redirect) = match line.split_once('>') {
            Some((c, target)) => (c.trim(), Some(target.trim_start_matches('>').trim())),
            None => (line.as_str(), None),
        };
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            ["lagghook", rest @ ..] => {
                lagghook_lines += 1;
                let inv = args::parse(rest.iter().copied())
                    .unwrap_or_else(|e| panic!("README: {line:?}: {e}"));
                if inv.command == CliCommand::DevdConf {
                    let target = redirect.expect("devd-conf is redirected to a file");
                    assert!(page.contains(&format!(".It Pa {target}\n")), "{target} not in FILES");
                }
            }
            ["make", targets @ ..] => {
                for target in targets {
                    assert!(makefile.contains(&format!("\n{target}:")), "no make target {target}");
                }
            }
            ["service", "lagghook", directive] => {
                let ok = *directive == "start"
                    || script.contains(&format!("extra_commands=\"{directive}\""));
                assert!(ok, "rc.d/lagghook has no {directive}");
            }
            ["sysrc", assignment] | ["sysrc", "-x", assignment] => {
                let var = assignment.split('=').next().unwrap();
                if var.starts_with("lagghook") {
                    assert!(script.contains(&format!("rcvar=\"{var}\"")), "{var} is not the rcvar");
                }
            }
            _ => {}
        }
    }
    // setup (with -n and without), check and status; setup replaced the
    // rc-conf and devd-conf steps, which README now only mentions.
    assert!(lagghook_lines >= 4, "README shows lagghook's own commands");
}

/// Proves README's FreeBSD steps come in an order that works: install
/// before setting up, `setup -n` before `setup` (which writes the
/// configuration, the rc.conf lines and the devd rules, restarts devd and
/// enables the script), the script started after that, checked last, and
/// uninstalled only after that.
#[test]
fn readme_steps_come_in_an_order_that_works() {
    let commands = readme_commands();
    let at = |wanted: &str| {
        commands
            .iter()
            .position(|c| c == wanted || c.starts_with(&format!("{wanted} ")))
            .unwrap_or_else(|| panic!("README lacks {wanted:?}: {commands:#?}"))
    };
    let sample = format!("cp /usr/local/etc/lagghook.toml.sample {}", config::DEFAULT_PATH);
    let steps = [
        at("pkg install rust"),
        at("make"),
        at("make install"),
        at("lagghook -n setup"),
        at("lagghook setup"),
        at("service lagghook start"),
        at("lagghook check"),
        at("sysrc -x lagghook_enable"),
        at("make uninstall"),
    ];
    // The configuration written by hand, when setup cannot tell which
    // interfaces to use, comes before setup is run again: after the
    // first setup, before the reboot.
    assert!(at("lagghook setup") < at(&sample) && at(&sample) < at("service lagghook start"));
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "out of order: {steps:?}");
}

/// Proves README names the files lagghook really uses: the configuration,
/// the state directory, the program the devd rules run, and where
/// FreeBSD's syslog puts its lines.
#[test]
fn readme_names_the_real_paths() {
    let readme = read("README.md");
    for path in [
        config::DEFAULT_PATH,
        lagghook::run::state::DEFAULT_DIR,
        "/usr/local/etc/devd/lagghook.conf",
        "/var/log/messages",
    ] {
        assert!(readme.contains(path), "README does not name {path}");
    }
}

/// Proves the Makefile's default PREFIX puts the programs and the
/// configuration where lagghook and its devd rules look for them (those
/// paths are compiled in), and that the rc.d script runs lagghook.
#[test]
fn default_prefix_is_where_lagghook_looks() {
    let makefile = read("Makefile");
    let prefix = makefile
        .lines()
        .find_map(|l| l.strip_prefix("PREFIX?="))
        .expect("PREFIX?= in the Makefile")
        .trim();
    assert_eq!(lagghook::devd::PROGRAM, format!("{prefix}/libexec/lagghook-devd"));
    assert_eq!(lagghook::devd::ADMIN_PROGRAM, format!("{prefix}/sbin/lagghook"));
    assert_eq!(config::DEFAULT_PATH, format!("{prefix}/etc/lagghook.toml"));
    assert!(read("rc.d/lagghook").contains(&format!("\t{} ", lagghook::devd::ADMIN_PROGRAM)));
}
