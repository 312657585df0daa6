//! The console's page in a real headless Chromium (filled in below).
