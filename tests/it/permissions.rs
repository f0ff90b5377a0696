//! Permission rows: catalogue checks, risk flags and the least-privilege plan.
