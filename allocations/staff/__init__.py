"""The staff side of reviews, decisions and the allocation lifecycle (every URL lives under /staff/)."""
