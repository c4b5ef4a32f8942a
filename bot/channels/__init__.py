"""Channel adapters: platform events in, neutral messages out, and back. Nothing else."""
