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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command below `cmd` (itself included), with its path of names: ["ftpscope",
    /// "analyze"].
    fn commands(cmd: &clap::Command, path: &[String], found: &mut Vec<(Vec<String>, clap::Command)>) {
        let path: Vec<String> = path.iter().cloned().chain([cmd.get_name().to_string()]).collect();
        found.push((path.clone(), cmd.clone()));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            commands(sub, &path, found);
        }
    }

    /// Each command's long options (not hidden), walked from the definitions: a new option is
    /// checked without anyone listing it.
    fn longs(cmd: &clap::Command) -> Vec<String> {
        cmd.get_arguments().filter(|a| !a.is_hide_set()).filter_map(|a| a.get_long()).map(str::to_string).collect()
    }

    fn all() -> Vec<(Vec<String>, clap::Command)> {
        let mut found = Vec::new();
        commands(&crate::Cli::command(), &[], &mut found);
        found
    }

    fn generated(shell: Shell) -> String {
        let mut out = Vec::new();
        completions(shell, &mut crate::Cli::command(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_command_line_is_well_formed() {
        crate::Cli::command().debug_assert();
    }

    #[test]
    fn completions_mention_every_subcommand_and_option() {
        let tree = all();
        assert!(tree.len() >= 6, "ftpscope and its subcommands: {}", tree.len());
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = generated(shell);
            for (path, cmd) in &tree {
                let name = path.last().unwrap();
                assert!(script.contains(name.as_str()), "{shell:?}: no {name}");
                for long in longs(cmd) {
                    // fish names a long option `-l json`; bash and zsh write it out.
                    let written = match shell {
                        Shell::Fish => format!("-l {long}"),
                        _ => format!("--{long}"),
                    };
                    assert!(script.contains(&written), "{shell:?}: {} has no {written}", path.join(" "));
                }
            }
        }
    }

    #[test]
    fn the_man_page_has_a_section_per_subcommand_with_each_of_its_options() {
        let mut out = Vec::new();
        man(crate::Cli::command(), &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.starts_with(".ie") && page.contains(".TH ftpscope 1"), "{}", &page[..200]);
        for (path, cmd) in all().iter().skip(1) {
            let heading = format!(".SH \"{}\"", path.join(" ").to_uppercase());
            let section = page.split(&heading).nth(1).unwrap_or_else(|| panic!("no {heading}"));
            // Up to the next subcommand's section.
            let section = section.split("\n.SH ").next().unwrap();
            for long in longs(cmd) {
                // roff writes a hyphen as \-.
                let written = format!("\\-\\-{}", long.replace('-', "\\-"));
                assert!(section.contains(&written), "{heading} has no {written}");
            }
        }
    }

    /// One definition of the output flags: every command that prints a report takes the same
    /// words, with the same help.
    #[test]
    fn the_output_flags_are_one_set() {
        let tree = all();
        let report_commands: Vec<&clap::Command> =
            tree.iter().filter(|(p, _)| ["analyze", "live", "explain"].contains(&p.last().unwrap().as_str())).map(|(_, c)| c).collect();
        assert_eq!(report_commands.len(), 3);
        for flag in ["json", "ndjson", "quiet", "color", "no-color"] {
            let helps: Vec<String> = report_commands
                .iter()
                .map(|c| {
                    let arg = c.get_arguments().find(|a| a.get_long() == Some(flag));
                    arg.unwrap_or_else(|| panic!("{} has no --{flag}", c.get_name())).get_help().unwrap().to_string()
                })
                .collect();
            assert!(helps.windows(2).all(|w| w[0] == w[1]), "--{flag}: {helps:?}");
        }
    }
}
