"""Stack entry point and configuration: read config once, wire components, export outputs."""
