"""The GraphQL edge: Strawberry types, errors, relations, the view. Services never import it."""
