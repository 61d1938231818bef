"""The annotated corpus in training_data/: its label schema, validation and splits."""
