"""Browser tests of the Energy Hub card: Debian's Chromium, a real Home Assistant, the sandbox."""
