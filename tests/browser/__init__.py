"""Tests that drive the app in headless Chromium."""
