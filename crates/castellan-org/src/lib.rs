//! Organizations: the tree of a root, organizational units and accounts, the SCPs and RCPs
//! attached in it, and what they mean for each account.
