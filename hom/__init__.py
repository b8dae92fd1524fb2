"""H.O.M: a GraphQL-first API server for goods and appointments."""
