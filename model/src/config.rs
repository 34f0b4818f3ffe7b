//! Config specs: top-level Compose `configs:` entries and native Config manifests.
//!
//! A config takes exactly the keys of a secret; only how swarm stores it differs.

crate::secret::data_object_spec!(ConfigSpec, ConfigSpecWire, "ConfigSpecWire", "config");
