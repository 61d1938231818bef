"""Storage: the schema (`schema`), engines (`engine`), units of work (`store`), migrations (`migrate`)."""
