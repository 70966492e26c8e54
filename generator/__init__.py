"""Values presets and sizing for the lws-inference Helm chart."""
