"""The demo shop's content: a small coffee-and-home catalog with drawn product images."""
