//! One module per command.

pub mod bench;
pub mod build;
pub mod dev;
pub mod diff;
pub mod down;
pub mod gen_k8s_base;
pub mod plan;
pub mod render;
pub mod status;
pub mod test;
pub mod up;
pub mod verify_budgets;
