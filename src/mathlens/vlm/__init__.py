"""Large vision-language models: a backend that reads like the small model, and the data to fine-tune one
(Uni-MuMER's tasks, `mathlens vlm-data`: data.py). Optional: nothing here is imported by default."""
