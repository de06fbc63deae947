"""Use cases, one transaction each, over the domain rules and the models."""
