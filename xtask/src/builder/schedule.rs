//! Runs one job per image, each as soon as every image it depends on has succeeded, as many at
//! once as are ready. A failure stops only the images that depend on it, directly or not.

use std::{
    collections::{BTreeMap, BTreeSet},
    panic::AssertUnwindSafe,
    sync::mpsc,
};

use anyhow::{anyhow, Result};

use crate::{config::Image, process};

/// How an image's job ended.
pub enum Outcome<T> {
    Done(T),
    Failed(anyhow::Error),
    /// Not run: `failed` (an image it depends on, directly or through others) failed.
    Blocked {
        failed: String,
    },
    /// Not run: the run was interrupted first.
    Interrupted,
}

/// Runs `job` for each of `images` (in build order: dependencies first), handing it the results
/// of the images done so far. Returns every image's outcome, by key.
pub fn run<T, J>(images: &[&Image], job: &J) -> BTreeMap<String, Outcome<T>>
where
    T: Clone + Send,
    J: Fn(&Image, &BTreeMap<String, T>) -> Result<T> + Sync,
{
    let mut outcomes: BTreeMap<String, Outcome<T>> = BTreeMap::new();
    let mut started = BTreeSet::new();
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        let mut running = 0;
        loop {
            for &image in images {
                if started.contains(&image.key) {
                    continue;
                }
                let failed = image.depends_on.iter().find_map(|dep| match outcomes.get(dep) {
                    Some(Outcome::Failed(_)) => Some(dep.clone()),
                    Some(Outcome::Blocked { failed }) => Some(failed.clone()),
                    _ => None,
                });
                if let Some(failed) = failed {
                    started.insert(image.key.clone());
                    outcomes.insert(image.key.clone(), Outcome::Blocked { failed });
                    continue;
                }
                let ready = image.depends_on.iter().all(|dep| matches!(outcomes.get(dep), Some(Outcome::Done(_))));
                if !ready || process::interrupted() {
                    continue;
                }
                started.insert(image.key.clone());
                let done: BTreeMap<String, T> = outcomes
                    .iter()
                    .filter_map(|(key, outcome)| match outcome {
                        Outcome::Done(value) => Some((key.clone(), value.clone())),
                        _ => None,
                    })
                    .collect();
                let sender = sender.clone();
                scope.spawn(move || {
                    // A panic is the job's failure, not a hang waiting for its result (the panic
                    // message is already printed).
                    let result = std::panic::catch_unwind(AssertUnwindSafe(|| job(image, &done)))
                        .unwrap_or_else(|_| Err(anyhow!("xtask panicked while handling image `{}`", image.key)));
                    let _ = sender.send((image.key.clone(), result));
                });
                running += 1;
            }
            if running == 0 {
                break;
            }
            let (key, result) = receiver.recv().expect("a running job holds a sender");
            running -= 1;
            outcomes.insert(key, result.map_or_else(Outcome::Failed, Outcome::Done));
        }
    });
    for image in images {
        outcomes.entry(image.key.clone()).or_insert(Outcome::Interrupted);
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{Condvar, Mutex},
        time::Duration,
    };

    use anyhow::bail;

    use super::*;

    fn image(key: &str, depends_on: &[&str]) -> Image {
        Image { key: key.into(), depends_on: depends_on.iter().map(|d| d.to_string()).collect(), ..Image::default() }
    }

    fn outcome(outcomes: &BTreeMap<String, Outcome<String>>, key: &str) -> String {
        match &outcomes[key] {
            Outcome::Done(value) => format!("done {value}"),
            Outcome::Failed(err) => format!("failed {err}"),
            Outcome::Blocked { failed } => format!("blocked by {failed}"),
            Outcome::Interrupted => "interrupted".into(),
        }
    }

    #[test]
    fn independent_jobs_run_at_the_same_time_and_dependents_see_their_dependencies() {
        // `a` and `b` each wait until the other has started: run one after the other, neither
        // would finish (the wait gives up after a while and fails the job).
        let images = [image("a", &[]), image("b", &[]), image("c", &["a", "b"])];
        let images: Vec<&Image> = images.iter().collect();
        let started = (Mutex::new(BTreeSet::new()), Condvar::new());
        let job = |image: &Image, done: &BTreeMap<String, String>| -> Result<String> {
            if image.key == "c" {
                return Ok(format!("after {}", done.keys().cloned().collect::<Vec<_>>().join("+")));
            }
            let (set, cvar) = &started;
            let mut set = set.lock().unwrap();
            set.insert(image.key.clone());
            cvar.notify_all();
            let (set, timeout) = cvar.wait_timeout_while(set, Duration::from_secs(10), |s| s.len() < 2).unwrap();
            if timeout.timed_out() {
                bail!("ran alone: {set:?}");
            }
            Ok("ran alongside".into())
        };
        let outcomes = run(&images, &job);
        assert_eq!(outcome(&outcomes, "a"), "done ran alongside");
        assert_eq!(outcome(&outcomes, "b"), "done ran alongside");
        assert_eq!(outcome(&outcomes, "c"), "done after a+b");
    }

    #[test]
    fn a_failure_blocks_its_dependents_through_others_and_nothing_else() {
        let images = [
            image("base", &[]),
            image("app", &["base"]),
            image("tests", &["app"]),
            image("other", &[]),
            image("mixed", &["other", "base"]),
        ];
        let images: Vec<&Image> = images.iter().collect();
        let job = |image: &Image, _: &BTreeMap<String, String>| -> Result<String> {
            if image.key == "base" {
                bail!("base is broken");
            }
            Ok(image.key.clone())
        };
        let outcomes = run(&images, &job);
        assert_eq!(outcome(&outcomes, "base"), "failed base is broken");
        assert_eq!(outcome(&outcomes, "app"), "blocked by base");
        assert_eq!(outcome(&outcomes, "tests"), "blocked by base");
        assert_eq!(outcome(&outcomes, "other"), "done other");
        assert_eq!(outcome(&outcomes, "mixed"), "blocked by base");
    }

    #[test]
    fn a_panicking_job_is_a_failure_of_its_image() {
        let images = [image("a", &[]), image("b", &["a"])];
        let images: Vec<&Image> = images.iter().collect();
        let job = |image: &Image, _: &BTreeMap<String, String>| -> Result<String> {
            if image.key == "a" {
                panic!("bug");
            }
            Ok(String::new())
        };
        let outcomes = run(&images, &job);
        assert_eq!(outcome(&outcomes, "a"), "failed xtask panicked while handling image `a`");
        assert_eq!(outcome(&outcomes, "b"), "blocked by a");
    }
}
