"""Whole pages and PDFs to Markdown: pages -> detect formulas -> read text and formulas -> order -> Markdown."""
