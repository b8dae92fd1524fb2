"""Catalog: categories, products, search, favorites, collections, product views."""
