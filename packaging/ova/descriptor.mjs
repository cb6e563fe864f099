// The OVF 1.0 descriptor of a sprout .ova: one VirtualSystem (CPU, memory, a SCSI or
// SATA controller with the disk, an IDE CD-ROM for the OVF environment ISO, a NIC)
// and a ProductSection of user-configurable properties with ovf:transport="iso".
// The properties are cloud-init's, so vSphere and VirtualBox show the same fields
// for sprout and cloud-init images. Pure: returns the XML text.

/** The properties a person sets at deploy time; the hypervisor passes them in ovf-env.xml. */
export const PRODUCT_PROPERTIES = [
  { key: "instance-id", label: "A unique instance ID for this instance", description: "Identifies the instance: when it changes, sprout runs first-boot configuration again.", value: "id-ovf" },
  { key: "hostname", label: "Hostname", description: "The hostname for the appliance.", value: "" },
  { key: "seedfrom", label: "URL to seed instance data from", description: "Optional: a NoCloud seed URL; meta-data and user-data are read from it (http://host/path/ reads http://host/path/meta-data).", value: "" },
  { key: "public-keys", label: "ssh public keys", description: "Optional: ssh public keys for the default user's authorized_keys, one per line.", value: "" },
  { key: "user-data", label: "Encoded user-data", description: "Optional: base64-encoded user-data (#cloud-config, a script or MIME), processed as user-data after decoding.", value: "" },
  { key: "password", label: "Default user's password", description: "Optional: the default user's password, good for one login (it must be changed then). RANDOM makes a random one, shown on the console.", value: "" },
  { key: "network-config", label: "Encoded network-config", description: "Optional: base64-encoded network-config (YAML, version 1 or 2).", value: "" },
];

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * @param {{ name: string, vmdkName: string, vmdkSize: number, capacity: number, cpus: number, memoryMiB: number,
 *           controller: "scsi" | "sata", osId: number, osDescription: string, product: string, version: string }} o
 */
export function ovfDescriptor(o) {
  const controller =
    o.controller === "sata"
      ? `      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SATA Controller</rasd:Description>
        <rasd:ElementName>sataController0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>AHCI</rasd:ResourceSubType>
        <rasd:ResourceType>20</rasd:ResourceType>
      </Item>`
      : `      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI Controller</rasd:Description>
        <rasd:ElementName>scsiController0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>`;
  const properties = PRODUCT_PROPERTIES.map(
    (p) => `      <Property ovf:key="${p.key}" ovf:type="string" ovf:userConfigurable="true" ovf:value="${esc(p.value)}">
        <Label>${esc(p.label)}</Label>
        <Description>${esc(p.description)}</Description>
      </Property>`,
  ).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="${esc(o.vmdkName)}" ovf:id="file1" ovf:size="${o.vmdkSize}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="${o.capacity}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="bridged">
      <Description>The bridged network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="${esc(o.name)}">
    <Info>A virtual machine configured at boot by sprout</Info>
    <Name>${esc(o.name)}</Name>
    <OperatingSystemSection ovf:id="${o.osId}">
      <Info>The operating system installed</Info>
      <Description>${esc(o.osDescription)}</Description>
    </OperatingSystemSection>
    <ProductSection>
      <Info>Instance configuration read by sprout (and cloud-init) from the OVF environment</Info>
      <Product>${esc(o.product)}</Product>
      <Version>${esc(o.version)}</Version>
${properties}
    </ProductSection>
    <VirtualHardwareSection ovf:transport="iso">
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>${esc(o.name)}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-13 virtualbox-2.2</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>${o.cpus} virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>${o.cpus}</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>${o.memoryMiB}MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>${o.memoryMiB}</rasd:VirtualQuantity>
      </Item>
${controller}
      <Item>
        <rasd:Address>1</rasd:Address>
        <rasd:Description>IDE Controller</rasd:Description>
        <rasd:ElementName>ideController1</rasd:ElementName>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:ResourceType>5</rasd:ResourceType>
      </Item>
      <Item ovf:required="false">
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:Description>CD-ROM for the OVF environment ISO</rasd:Description>
        <rasd:ElementName>cdrom1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:Parent>4</rasd:Parent>
        <rasd:ResourceType>15</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>disk1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>6</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>2</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>bridged</rasd:Connection>
        <rasd:Description>E1000 ethernet adapter on "bridged"</rasd:Description>
        <rasd:ElementName>ethernet0</rasd:ElementName>
        <rasd:InstanceID>7</rasd:InstanceID>
        <rasd:ResourceSubType>E1000</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
    <AnnotationSection ovf:required="false">
      <Info>How to configure this machine</Info>
      <Annotation>Set the properties at deploy time (vApp options), or attach an ISO made by \`sprout seed ovf\` or \`sprout seed nocloud\`.</Annotation>
    </AnnotationSection>
  </VirtualSystem>
</Envelope>
`;
}
