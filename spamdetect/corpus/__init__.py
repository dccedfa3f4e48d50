"""The labeled corpus: real legitimate pages plus farm pages simulated on top of them."""
