"""The admin console (served under /admin). It imports core, never bot."""
