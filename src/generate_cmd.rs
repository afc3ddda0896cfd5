//! `ftpscope completions bash|zsh|fish` and `ftpscope man`: the shell completions and the man
//! page, generated from the command line's own definitions (clap_complete, clap_mangen), so
//! that they never drift from it. Written to standard output, for a package to install
//! (/usr/share/bash-completion/completions/ftpscope, /usr/share/zsh/vendor-completions/_ftpscope,
//! /usr/share/fish/vendor_completions.d/ftpscope.fish, /usr/share/man/man1/ftpscope.1).

use clap::ValueEnum;
use std::io::{self, Write};

/// The shells completions are written for.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// The completion script for `shell`, of the command `cmd`.
pub fn completions(shell: Shell, cmd: &mut clap::Command, out: &mut dyn Write) {
    let name = cmd.get_name().to_string();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, cmd, name, out);
}

/// The man page (section 1) of `cmd`, with a section per subcommand: one page says everything,
/// as ripgrep's does.
pub fn man(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    let subcommands: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    // clap_mangen's own list points to a page per subcommand (ftpscope-analyze(1)): here they
    // are sections of this page.
    writeln!(out, ".SH SUBCOMMANDS")?;
    for sub in &subcommands {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        writeln!(out, ".TP\n\\fB{} {}\\fR\n{}", cmd.get_name(), sub.get_name(), roff_text(&about))?;
    }
    // No VERSION or AUTHORS section: the title names the version, and the crate no authors.
    subcommands.into_iter().try_for_each(|sub| subcommand(out, &cmd, sub))
}

/// Plain text safe in a roff paragraph: backslashes doubled, a leading dot or quote escaped.
fn roff_text(text: &str) -> String {
    let text = text.replace('\\', "\\(rs").replace('-', "\\-");
    match text.starts_with(['.', '\'']) {
        true => format!("\\&{text}"),
        false => text,
    }
}

/// A subcommand's own section: its synopsis, what it does, each of its options.
fn subcommand(out: &mut dyn Write, top: &clap::Command, sub: &clap::Command) -> io::Result<()> {
    let name = format!("{} {}", top.get_name(), sub.get_name());
    let sub = sub.clone().bin_name(name.clone());
    let man = clap_mangen::Man::new(sub);
    let mut body = Vec::new();
    man.render_synopsis_section(&mut body)?;
    man.render_description_section(&mut body)?;
    man.render_options_section(&mut body)?;
    // Each rendered section opens with `.SH NAME`: here they are subsections of one `.SH`.
    let body = String::from_utf8_lossy(&body).replace(".SH ", ".SS ");
    writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
    out.write_all(body.as_bytes())
}
