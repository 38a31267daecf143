"""Streamlit helpers of the app: session state, cached data work, widgets, training jobs."""
