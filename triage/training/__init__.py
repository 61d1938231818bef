"""Training every model from training_data/, reproducibly, into models/<name>/."""
