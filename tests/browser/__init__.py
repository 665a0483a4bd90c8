"""Tests in a real Chromium (Playwright). A package, so that test_pwa/test_public here never clash with
test modules of the same name elsewhere under tests/."""
