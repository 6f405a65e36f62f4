//! `cargo xtask diff [--env NAME] [--exit-code]`: what `up` would change on the cluster, per
//! object and field, before anything is built or applied.
//!
//! The new manifests come from helm's own server-side dry run of the upgrade `up` runs (so the
//! chart's `lookup` sees the live Secrets); each object then goes through a server-side apply
//! dry run, which applies defaults and admission, and is compared with the live object field
//! by field. Objects of the deployed revision that the new one lacks would be deleted.
//! Secret values are never printed.

use std::{collections::BTreeSet, process::ExitCode};

use anyhow::Result;
use camino::Utf8Path;

use crate::{
    cluster::Cluster,
    config,
    flags::DiffArgs,
    manifest::Redactor,
    object_diff::{changes, describe, ObjectId},
    plan::plan_images,
    registry::Client,
    release::{deployed_manifest, dry_run_manifest, generated_values, secret_values, ValuesFiles},
    state::State,
};

/// The exit status of `--exit-code` when something would change (1 stays "xtask failed").
const CHANGES: u8 = 2;

pub fn run(config_path: &Utf8Path, args: &DiffArgs) -> Result<ExitCode> {
    let config = config::load(config_path)?;
    let env = config.environment(args.env.name.as_deref())?;
    let cluster = Cluster::new(&config, env);
    cluster.preflight()?;
    let state = State::load(&config.root)?;
    let secrets = secret_values(&config, env)?;
    // Asked like `up` asks it: the digests it deploys by are what the live objects are compared with.
    let registry = env.registry.as_ref().map(Client::new).transpose()?;
    let (plans, _) = plan_images(&config.images.iter().collect::<Vec<_>>(), env, &state, registry.as_ref())?;
    let values = generated_values(&config, env, &plans);
    let files = ValuesFiles::write(&config, env, &values, &secrets)?;
    let mut redactor = Redactor::for_values(&secrets);
    let release = &config.release;

    let unbuilt: Vec<&str> = plans.iter().filter(|p| p.build).map(|p| p.reference.as_str()).collect();
    if !unbuilt.is_empty() {
        eprintln!("note: not built yet (`up` builds them first): {}", unbuilt.join(", "));
    }
    let installed = cluster.release_status()?;
    let manifest = dry_run_manifest(&cluster, &files)?;
    let Some((revision, status)) = installed else {
        let objects = cluster.manifest_objects(&manifest)?;
        println!(
            "release {} is not installed in namespace {}: `cargo xtask up --env {}` would create {} objects",
            release.name,
            release.namespace,
            env.name,
            objects.len()
        );
        for object in &objects {
            println!("  + {}", ObjectId::of(object));
        }
        return Ok(exit(args, !objects.is_empty()));
    };

    let applied = cluster.applied_objects(&manifest)?;
    let live = cluster.live_objects(&manifest)?;
    let deployed = cluster.live_objects(&deployed_manifest(&cluster)?)?;
    for object in applied.iter().chain(&live).chain(&deployed) {
        redactor.add_secret_object(object);
    }
    println!(
        "release {} (namespace {}), revision {revision} ({status}) → what `cargo xtask up --env {}` would apply:\n",
        release.name, release.namespace, env.name
    );
    let mut lines = Vec::new();
    let mut unchanged = 0;
    let new_ids: BTreeSet<ObjectId> = applied.iter().map(ObjectId::of).collect();
    for object in &applied {
        let id = ObjectId::of(object);
        match live.iter().find(|l| ObjectId::of(l) == id) {
            None => lines.push(format!("  + {id} (created)")),
            Some(before) => {
                let fields = changes(before, object);
                if fields.is_empty() {
                    unchanged += 1;
                    continue;
                }
                lines.push(format!("  ~ {id}"));
                lines.extend(fields.iter().map(|c| format!("      {}", describe(&id.kind, c))));
            }
        }
    }
    for object in &deployed {
        let id = ObjectId::of(object);
        if !new_ids.contains(&id) {
            lines.push(format!("  - {id} (deleted)"));
        }
    }
    let changed = !lines.is_empty();
    for line in &lines {
        println!("{}", redactor.scrub(line));
    }
    if changed {
        println!("\n{} objects unchanged; `cargo xtask up --env {}` applies the changes above.", unchanged, env.name);
    } else {
        println!("  no changes: the {unchanged} live objects are what `up` would apply");
    }
    Ok(exit(args, changed))
}

fn exit(args: &DiffArgs, changed: bool) -> ExitCode {
    if args.exit_code && changed {
        ExitCode::from(CHANGES)
    } else {
        ExitCode::SUCCESS
    }
}
