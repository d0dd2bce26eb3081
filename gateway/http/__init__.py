"""The gateway's HTTP face: SOAP endpoints, their WSDL/XSD, health and the service catalogue."""
