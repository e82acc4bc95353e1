//! Temporary sessions: AssumeRole and its siblings, the session tokens they issue, and the
//! session as a principal.
