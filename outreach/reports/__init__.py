"""Monthly reporting: one figures object, drawn on by the PDF, the CSV and the dashboard."""
